/** GET /metrics: every SPEC §5 name with HELP/TYPE and its label names, and the series moving with what happens. */
import request from 'supertest';
import { DECISIONS, EXECUTION_RESULTS, ROLLBACK_KINDS, STRATEGIES } from '../../src/model.js';
import { alert, payload } from '../support/alerts.js';
import { decideVia, scrape, serviceFactory, valueOf, type Exposition } from './helpers.js';

const start = serviceFactory();

/** SPEC §5: name, type, label names. */
const CONTRACT: [string, 'counter' | 'gauge' | 'histogram', string[]][] = [
  ['rollback_webhooks_received_total', 'counter', ['status']],
  ['rollback_alerts_total', 'counter', ['trigger', 'decision']],
  ['rollback_executions_total', 'counter', ['strategy', 'kind', 'result']],
  ['rollback_execution_duration_seconds', 'histogram', ['strategy']],
  ['rollback_in_progress', 'gauge', []],
  ['rollback_cooldown_active', 'gauge', ['namespace', 'name']],
  ['rollback_last_success_timestamp_seconds', 'gauge', ['namespace', 'name']],
  ['rollback_monitoring_windows_active', 'gauge', []],
  ['rollback_monitoring_breaches_total', 'counter', ['metric']],
  ['rollback_escalations_total', 'counter', ['reason']],
  ['rollback_notifications_total', 'counter', ['channel', 'result']],
];

const TRIGGERS = ['health_check', 'error_rate', 'response_time', 'cpu', 'memory'];

function seriesOf(exp: Exposition, name: string, type: string) {
  const names = type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
  return exp.series.filter((s) => names.includes(s.name));
}

/** Checks HELP/TYPE and the label names of every series of every contract metric. */
function expectContract(exp: Exposition): void {
  for (const [name, type, labels] of CONTRACT) {
    expect([name, exp.type.get(name)]).toEqual([name, type]);
    expect([name, (exp.help.get(name) ?? '').length > 10]).toEqual([name, true]);
    for (const s of seriesOf(exp, name, type)) {
      const want = s.name.endsWith('_bucket') ? [...labels, 'le'] : labels;
      expect([s.name, Object.keys(s.labels).sort()]).toEqual([s.name, [...want].sort()]);
    }
  }
}

/** Five dry runs on one target, 301 s apart, use up maximumRetries; the sixth alert escalates. */
async function exhaustRetries(app: Parameters<typeof decideVia>[0], advance: (ms: number) => void): Promise<string[]> {
  const decisions: string[] = [];
  for (let i = 0; i < 7; i++) {
    const [d] = await decideVia(app, payload([alert()]));
    decisions.push(d!.decision);
    advance(301_000);
  }
  return decisions;
}

describe('GET /metrics', () => {
  it('serves the Prometheus text format with every SPEC §5 metric, HELP and TYPE, before anything happened', async () => {
    const { service } = start();
    const res = await request(service.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const [name, type] of CONTRACT) {
      expect(res.text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
      expect(res.text).toContain(`# TYPE ${name} ${type}\n`);
    }
    expectContract(await scrape(service.app));
  });

  it('starts the known series at 0 so rate() and absent() work from the first scrape', async () => {
    const { service } = start();
    const exp = await scrape(service.app);
    for (const status of ['200', '400', '401', '413', '415', '503']) expect(valueOf(exp, 'rollback_webhooks_received_total', { status })).toBe(0);
    for (const trigger of [...TRIGGERS, 'none']) {
      for (const decision of DECISIONS) expect([trigger, decision, valueOf(exp, 'rollback_alerts_total', { trigger, decision })]).toEqual([trigger, decision, 0]);
    }
    const executions = seriesOf(exp, 'rollback_executions_total', 'counter');
    expect(executions).toHaveLength(STRATEGIES.length * ROLLBACK_KINDS.length * EXECUTION_RESULTS.length);
    expect(executions.every((s) => s.value === 0)).toBe(true);
    expect(new Set(executions.map((s) => s.labels.result))).toEqual(new Set(['success', 'failed', 'escalated']));
    expect(valueOf(exp, 'rollback_escalations_total', { reason: 'retries_exhausted' })).toBe(0);
    expect(valueOf(exp, 'rollback_in_progress')).toBe(0);
    expect(valueOf(exp, 'rollback_monitoring_windows_active')).toBe(0);
    expect(seriesOf(exp, 'rollback_cooldown_active', 'gauge')).toEqual([]);
    for (const result of ['success', 'failed']) expect(valueOf(exp, 'rollback_notifications_total', { channel: 'log', result })).toBe(0);
    for (const metric of ['error_rate', 'response_time', 'cpu_usage', 'memory_usage']) expect(valueOf(exp, 'rollback_monitoring_breaches_total', { metric })).toBe(0);
  });

  it('counts decisions by trigger and decision', async () => {
    const { service } = start();
    await decideVia(
      service.app,
      payload([
        alert(),
        alert(),
        alert({ labels: { alertname: 'Watchdog', rollback_trigger: 'nope' } }),
        alert({ labels: { deployment: 'slow', rollback_trigger: 'response_time' } }),
        alert({ status: 'resolved', labels: { deployment: 'other' } }),
      ]),
    );
    const exp = await scrape(service.app);
    expect(valueOf(exp, 'rollback_alerts_total', { trigger: 'error_rate', decision: 'dry_run' })).toBe(1);
    expect(valueOf(exp, 'rollback_alerts_total', { trigger: 'error_rate', decision: 'cooldown' })).toBe(1);
    expect(valueOf(exp, 'rollback_alerts_total', { trigger: 'error_rate', decision: 'resolved' })).toBe(1);
    expect(valueOf(exp, 'rollback_alerts_total', { trigger: 'none', decision: 'no_match' })).toBe(1);
    expect(valueOf(exp, 'rollback_alerts_total', { trigger: 'response_time', decision: 'pending' })).toBe(1);
    const total = seriesOf(exp, 'rollback_alerts_total', 'counter').reduce((n, s) => n + s.value, 0);
    expect(total).toBe(5);
    expectContract(exp);
  });

  it('rollback_cooldown_active is 1 for a target while it cools down, and gone after', async () => {
    const { service, clock } = start();
    await decideVia(service.app, payload([alert({ labels: { namespace: 'prod', deployment: 'api' } })]));
    clock.advance(299_000);
    const cooling = await scrape(service.app);
    expect(seriesOf(cooling, 'rollback_cooldown_active', 'gauge')).toEqual([{ name: 'rollback_cooldown_active', labels: { namespace: 'prod', name: 'api' }, value: 1 }]);
    expectContract(cooling);

    clock.advance(1_000);
    const over = await scrape(service.app);
    expect(seriesOf(over, 'rollback_cooldown_active', 'gauge')).toEqual([]);
  });

  it('counts notifications by channel and result, and escalations by reason (once per exhaustion)', async () => {
    const { service, clock } = start();
    const decisions = await exhaustRetries(service.app, (ms) => clock.advance(ms));
    expect(decisions).toEqual(['dry_run', 'dry_run', 'dry_run', 'dry_run', 'dry_run', 'retries_exhausted', 'retries_exhausted']);

    const exp = await scrape(service.app);
    expect(valueOf(exp, 'rollback_escalations_total', { reason: 'retries_exhausted' })).toBe(1);
    expect(valueOf(exp, 'rollback_alerts_total', { trigger: 'error_rate', decision: 'retries_exhausted' })).toBe(2);
    // Five rollback_started notifications and one escalation, on the always-on log channel.
    expect(valueOf(exp, 'rollback_notifications_total', { channel: 'log', result: 'success' })).toBe(6);
    expectContract(exp);
  });

  it('counts webhook outcomes under the status label', async () => {
    const { service } = start();
    await decideVia(service.app, payload([alert()]));
    await request(service.app).post('/webhook').set('Content-Type', 'text/plain').send('x').expect(415);
    await request(service.app).post('/webhook').set('Content-Type', 'application/json').send('{"version":"4"}').expect(400);
    const exp = await scrape(service.app);
    expect(valueOf(exp, 'rollback_webhooks_received_total', { status: '200' })).toBe(1);
    expect(valueOf(exp, 'rollback_webhooks_received_total', { status: '415' })).toBe(1);
    expect(valueOf(exp, 'rollback_webhooks_received_total', { status: '400' })).toBe(1);
    // /api/v1/simulate is not a webhook.
    await request(service.app).post('/api/v1/simulate').set('Content-Type', 'application/json').send(JSON.stringify(payload([alert()]))).expect(200);
    expect(valueOf(await scrape(service.app), 'rollback_webhooks_received_total', { status: '200' })).toBe(1);
  });
});
