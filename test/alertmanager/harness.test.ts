/**
 * Proves the Alertmanager test harness against the real thing: a webhook receiver with
 * `http_config.authorization` (Bearer, `credentials_file`) gets the token from the file
 * and a v4 payload the receiver's own parser accepts (firing, then resolved), alerts()
 * shows what Alertmanager holds, reload() switches config, and a start or reload that
 * fails says why with Alertmanager's own words, leaving nothing behind.
 */
import fs from 'node:fs';
import { labelsFingerprint } from '../../src/intake/fingerprint.js';
import { parsePayload } from '../../src/intake/parse.js';
import { waitFor } from '../envtest/wait.js';
import { startRecordingServer, type RecordedRequest, type RecordingServer } from '../prometheus/recording-server.js';
import { tmpBase } from '../support/daemon.js';
import { TMP_PREFIX, startAlertmanager, type RunningAlertmanager } from './harness.js';

const TOKEN = 'am-webhook-t0ken/with+chars';

/** Dead or a zombie (our pid 1 may not reap orphans). */
function gone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
  throw new Error('expected a rejection');
}

interface V4 {
  version: string;
  groupKey: string;
  truncatedAlerts: number;
  status: string;
  receiver: string;
  externalURL: string;
  commonLabels: Record<string, string>;
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; generatorURL: string; fingerprint: string }[];
}

const body = (r: RecordedRequest) => JSON.parse(r.body) as V4;

describe('Alertmanager harness', () => {
  let hooks: RecordingServer;
  const started: RunningAlertmanager[] = [];

  beforeAll(async () => {
    hooks = await startRecordingServer();
    hooks.reply({ status: 200, body: 'ok' });
  });
  afterAll(async () => {
    await Promise.all(started.map((a) => a.stop()));
    await hooks?.close();
  });

  it('delivers to a webhook with the bearer token from credentials_file and a v4 payload, firing then resolved', async () => {
    const am = await startAlertmanager({
      files: { 'webhook-token': `${TOKEN}\n` }, // Alertmanager trims the file's trailing newline
      receivers: ({ file }) => [
        {
          name: 'rollback-receiver',
          webhook_configs: [
            {
              url: `${hooks.url}/webhook`,
              send_resolved: true,
              http_config: { authorization: { type: 'Bearer', credentials_file: file('webhook-token') } },
            },
          ],
        },
      ],
      route: { group_by: ['alertname', 'namespace'], group_wait: '0s', group_interval: '1s' },
    });
    started.push(am);
    expect(am.startMs).toBeLessThan(10_000);
    const config = fs.readFileSync(am.configPath, 'utf8');
    expect(config).toContain(`credentials_file: ${am.file('webhook-token')}`);
    expect(config).not.toContain(TOKEN);

    const labels = { alertname: 'RollbackErrorRateHigh', rollback_trigger: 'error_rate', namespace: 'shop', deployment: 'api', severity: 'critical' };
    const startsAt = new Date(Date.now() - 1000).toISOString();
    await am.postAlerts([
      { labels, annotations: { summary: 'Error rate of shop/api is 25%' }, startsAt, generatorURL: 'http://prometheus.test/graph?g0.expr=up' },
    ]);

    const firing = await waitFor(() => hooks.requests.find((r) => r.url === '/webhook'), 10_000, { description: 'first webhook' });
    expect(firing.method).toBe('POST');
    expect(firing.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(firing.headers['content-type']).toMatch(/^application\/json/);
    const p = body(firing);
    expect(p).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'rollback-receiver',
      truncatedAlerts: 0,
      externalURL: am.url,
      commonLabels: labels,
      groupKey: '{}:{alertname="RollbackErrorRateHigh", namespace="shop"}',
    });
    expect(p.alerts).toHaveLength(1);
    expect(p.alerts[0]).toMatchObject({
      status: 'firing',
      labels,
      annotations: { summary: 'Error rate of shop/api is 25%' },
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.test/graph?g0.expr=up',
    });
    expect(Date.parse(p.alerts[0]!.startsAt)).toBe(Date.parse(startsAt));
    // The receiver's fingerprint of the labels is Alertmanager's, and its parser takes the payload as is.
    expect(p.alerts[0]!.fingerprint).toBe(labelsFingerprint(labels));
    expect(parsePayload(p)).toMatchObject({ ok: true });

    const held = await am.alerts();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ fingerprint: labelsFingerprint(labels), labels, receivers: [{ name: 'rollback-receiver' }], status: { state: 'active' } });
    expect(await am.alerts({ filter: ['namespace="elsewhere"'] })).toEqual([]);

    // Resolving it (endsAt in the past, as Prometheus does) sends a resolved notification.
    await am.postAlerts([{ labels, startsAt, endsAt: new Date().toISOString() }]);
    const resolved = await waitFor(
      () => hooks.requests.filter((r) => r.url === '/webhook').map(body).find((b) => b.status === 'resolved'),
      10_000,
      { description: 'resolved webhook' },
    );
    expect(resolved.alerts[0]).toMatchObject({ status: 'resolved', fingerprint: labelsFingerprint(labels) });
    expect(parsePayload(resolved)).toMatchObject({ ok: true });
    expect(hooks.requests.filter((r) => r.url === '/webhook').every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);

    const pid = am.pid();
    expect(pid).toBeDefined();
    await am.stop();
    await am.stop(); // idempotent
    expect(am.running()).toBe(false);
    expect(gone(pid ?? 0)).toBe(true);
    expect(fs.existsSync(am.tmpDir)).toBe(false);
  }, 30_000);

  it('reload() switches receivers (webhooks helper: token from a file of its own) and refuses a broken config with the reason', async () => {
    const am = await startAlertmanager({ webhooks: [{ name: 'one', url: `${hooks.url}/one`, bearerToken: 'token-one' }], route: { group_wait: '0s' } });
    started.push(am);
    await am.reload({ webhooks: [{ name: 'two', url: `${hooks.url}/two`, bearerToken: 'token-two' }] });
    await am.postAlerts([{ labels: { alertname: 'AfterReload', namespace: 'shop' } }]);
    const got = await waitFor(() => hooks.requests.find((r) => r.url === '/two'), 10_000, { description: 'webhook to the reloaded receiver' });
    expect(got.headers.authorization).toBe('Bearer token-two');
    expect(hooks.requests.some((r) => r.url === '/one')).toBe(false);
    expect(fs.readFileSync(am.file('two.token'), 'utf8')).toBe('token-two');

    const err = await rejection(am.reload({ route: { receiver: 'nobody' } }));
    expect(err.message).toMatch(/reload answered HTTP 500/);
    expect(err.message).toMatch(/undefined receiver "nobody"/);
    expect(am.running()).toBe(true); // keeps the old config
  }, 30_000);

  it("fails to start with the tail of Alertmanager's own log, leaving nothing behind", async () => {
    const before = new Set(fs.readdirSync(tmpBase(process.env.ALERTMANAGER_TMPDIR)));
    const err = await rejection(startAlertmanager({ config: { route: { receiver: 'missing' }, receivers: [{ name: 'other' }] } }));
    expect(err.message).toMatch(/alertmanager exited before it was ready/);
    expect(err.message).toMatch(/last 40 lines of .*alertmanager\.log/);
    expect(err.message).toMatch(/undefined receiver \\"missing\\" used in route/); // Alertmanager's own words (logfmt-escaped)
    const leftovers = fs.readdirSync(tmpBase(process.env.ALERTMANAGER_TMPDIR)).filter((d) => d.startsWith(TMP_PREFIX) && !before.has(d));
    expect(leftovers).toEqual([]);
  });

  it('says how to install Alertmanager when the binary is missing', async () => {
    const err = await rejection(startAlertmanager({ binary: '/nonexistent/alertmanager', receivers: [{ name: 'x' }] }));
    expect(err.message).toMatch(/ENOENT/);
    expect(err.message).toMatch(/apt-get install -y prometheus-alertmanager/);
  });
});
