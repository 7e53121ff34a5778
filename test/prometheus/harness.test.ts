/**
 * Proves the Prometheus test harness: it starts fast, cleans up after itself (also when
 * the Node process running it is SIGKILLed), fails loudly with Prometheus's own log,
 * evaluates and reloads rule files, and can put Prometheus behind basic auth (used to
 * check PrometheusClient's basic auth against the real thing).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PrometheusClient, PrometheusError } from '../../src/monitoring/prometheus.js';
import { waitFor } from '../envtest/wait.js';
import { TMP_PREFIX, startPrometheus, tmpBase, type RunningPrometheus } from './harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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

const RULES = {
  groups: [
    {
      name: 'harness',
      interval: '1s',
      rules: [
        { record: 'harness:one', expr: 'vector(1)' },
        { alert: 'HarnessAlwaysFiring', expr: 'vector(1)', labels: { rollback_trigger: 'error_rate', namespace: 'shop' } },
      ],
    },
  ],
};

describe('Prometheus harness', () => {
  const started: RunningPrometheus[] = [];
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
  });

  it('starts, evaluates and reloads rule files, and stops without leftovers', async () => {
    const prom = await startPrometheus({ rules: { 'harness.yml': RULES } });
    started.push(prom);
    const client = new PrometheusClient({ url: prom.url, timeoutMs: 2000 });
    await waitFor(async () => (await client.instant('harness:one'))[0]?.value === 1, 10_000, {
      description: 'recording rule evaluated',
    });
    await waitFor(
      async () => {
        const body = await prom.api<{ data: { alerts: Array<{ labels: Record<string, string>; state: string }> } }>(
          '/api/v1/alerts',
        );
        return body.data.alerts.some((a) => a.labels.alertname === 'HarnessAlwaysFiring' && a.state === 'firing');
      },
      10_000,
      { description: 'alert firing' },
    );

    // A reload with a new rule file takes effect; a broken one is refused with Prometheus's reason.
    await prom.reload({ rules: { 'harness.yml': RULES, 'two.yml': { groups: [{ name: 'two', rules: [{ record: 'harness:two', expr: 'vector(2)' }] }] } } });
    await waitFor(async () => (await client.instant('harness:two'))[0]?.value === 2, 10_000, {
      description: 'reloaded rule evaluated',
    });
    const broken = await rejection(
      prom.reload({ rules: { 'bad.yml': { groups: [{ name: 'bad', rules: [{ record: 'bad', expr: 'sum(' }] }] } } }),
    );
    expect(broken.message).toMatch(/reload answered HTTP 500/);
    expect(broken.message).toMatch(/parse error/);
    expect((await client.instant('harness:two'))[0]?.value).toBe(2); // still running the old config

    const pid = prom.pid();
    expect(pid).toBeDefined();
    await prom.stop();
    await prom.stop(); // idempotent
    expect(prom.running()).toBe(false);
    expect(gone(pid ?? 0)).toBe(true);
    expect(fs.existsSync(prom.tmpDir)).toBe(false);
    expect((await rejection(client.instant('vector(1)'))) as PrometheusError).toMatchObject({ kind: 'unreachable' });
  });

  it("fails to start with the tail of Prometheus's own log, leaving nothing behind", async () => {
    const before = new Set(fs.readdirSync(tmpBase()));
    const err = await rejection(startPrometheus({ extraConfig: { global: { scrape_interval: 'soon' } } }));
    expect(err.message).toMatch(/prometheus exited before it was ready/);
    expect(err.message).toMatch(/last 40 lines of .*prometheus\.log/);
    expect(err.message).toMatch(/not a valid duration string/); // Prometheus's own words
    const leftovers = fs.readdirSync(tmpBase()).filter((d) => d.startsWith(TMP_PREFIX) && !before.has(d));
    expect(leftovers).toEqual([]);
  });

  it('says how to install Prometheus when the binary is missing', async () => {
    const err = await rejection(startPrometheus({ binary: '/nonexistent/prometheus' }));
    expect(err.message).toMatch(/ENOENT/);
    expect(err.message).toMatch(/apt-get install -y prometheus/);
  });

  it('kills Prometheus and removes its temp dir when the Node process exits without stop()', async () => {
    const script =
      "const { startPrometheus } = await import('./test/prometheus/harness.ts');" +
      'const p = await startPrometheus();' +
      'process.stdout.write(JSON.stringify({ pid: p.pid(), tmpDir: p.tmpDir }) + "\\n");' +
      'process.exit(0);';
    const { NODE_OPTIONS: _drop, ...env } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect({ code, out }).toMatchObject({ code: 0 });
    const info = JSON.parse(out.split('\n').find((l) => l.startsWith('{')) ?? '{}') as { pid: number; tmpDir: string };
    // The exit hook acts at once (the watchdog would take up to a second).
    await waitFor(() => gone(info.pid) && !fs.existsSync(info.tmpDir), 500, { intervalMs: 20 });
  });

  it('kills Prometheus and removes its temp dir when the Node process running it is SIGKILLed', async () => {
    const { NODE_OPTIONS: _drop, ...env } = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/prometheus/run-prometheus.ts'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      const info = await waitFor(
        () => {
          const line = out.split('\n').find((l) => l.startsWith('{'));
          return line ? (JSON.parse(line) as { pid: number; tmpDir: string; url: string }) : undefined;
        },
        20_000,
        { description: `run-prometheus.ts to print its JSON line; output so far: ${out}` },
      );
      expect(gone(info.pid)).toBe(false);
      expect(fs.existsSync(info.tmpDir)).toBe(true);
      child.kill('SIGKILL'); // no exit hooks run: only the watchdog can clean up
      await exited;
      await waitFor(() => gone(info.pid) && !fs.existsSync(info.tmpDir), 10_000, {
        description: `prometheus ${info.pid} killed and ${info.tmpDir} removed by the watchdog`,
      });
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('a Prometheus behind basic auth', () => {
  // bcrypt (cost 4) of PASSWORD, made with python3 crypt.crypt(PASSWORD, mksalt(METHOD_BLOWFISH, rounds=16)).
  const PASSWORD = 'pr0m-Pa55:w"ord';
  const HASH = '$2b$04$9nz3TZNqZLaImqs/SqTaKek06nj1A9FNAqtyrHiU4PagV7qXi8GOO';
  let prom: RunningPrometheus;
  beforeAll(async () => {
    prom = await startPrometheus({ basicAuth: { username: 'monitor', password: PASSWORD, bcryptHash: HASH } });
  });
  afterAll(async () => {
    await prom?.stop();
  });

  it('answers PrometheusClient with the right credentials only, never echoing them', async () => {
    const ok = new PrometheusClient({ url: prom.url, basicAuth: { username: 'monitor', password: PASSWORD } });
    expect(await ok.instant('vector(7)')).toMatchObject([{ value: 7 }]);
    const inUrl = new PrometheusClient({ url: prom.url.replace('//', `//monitor:${encodeURIComponent(PASSWORD)}@`) });
    expect(await inUrl.instant('vector(7)')).toMatchObject([{ value: 7 }]);

    const wrong = new PrometheusClient({ url: prom.url, basicAuth: { username: 'monitor', password: 'not-it-1234' } });
    const denied = (await rejection(wrong.instant('vector(7)'))) as PrometheusError;
    expect(denied).toMatchObject({ kind: 'http', status: 401 });
    expect(denied.message).not.toContain('not-it-1234');
    const none = (await rejection(new PrometheusClient({ url: prom.url }).instant('vector(7)'))) as PrometheusError;
    expect(none).toMatchObject({ kind: 'http', status: 401 });
  });
});
