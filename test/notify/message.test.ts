import { describeEvent, isDryRunEvent, reportUrl } from '../../src/notify/message.js';
import type { NotificationEvent } from '../../src/notify/notifier.js';
import { decisionFixture, escalation, rollbackFixture, startedRollback } from './support.js';

const RECEIVER = 'https://rollback-receiver.example.com/';

describe('the channel-neutral message', () => {
  it('says what happened to what, why, and links the report, Alertmanager and the alert source', () => {
    const { event, rollback } = startedRollback({ annotations: { summary: 'error rate above 10%', description: '5xx ratio 0.23 over 5m', runbook_url: 'https://runbooks.example.com/api' } });
    const m = describeEvent(event, { receiverUrl: RECEIVER });
    expect(m.title).toBe('Rollback started: prod/api (deployment-undo, automatic)');
    expect(m.severity).toBe('error');
    expect(m.text).toContain('Reason: error_rate: HighErrorRate (error rate above 10%)');
    expect(m.text).toContain('Alert HighErrorRate [critical] firing since 2026-11-27T06:58:00.123Z: error rate above 10%');
    expect(m.text).toContain('5xx ratio 0.23 over 5m');
    expect(m.text).toContain('Decision: executed: rolling back prod/api with deployment-undo (trigger error_rate)');
    expect(m.links).toEqual([
      { text: 'Incident report', url: `https://rollback-receiver.example.com/api/v1/rollbacks/${rollback.id}/report` },
      { text: 'Alertmanager', url: 'http://alertmanager:9093/' },
      { text: 'Alert source', url: 'http://prometheus:9090/graph?g0.expr=job%3Aerror_rate%3Aratio5m+%3E+0.1' },
      { text: 'Runbook', url: 'https://runbooks.example.com/api' },
    ]);
    expect(m.fields).toEqual([
      { name: 'Target', value: 'prod/api' },
      { name: 'Strategy', value: 'deployment-undo' },
      { name: 'Kind', value: 'automatic' },
      { name: 'Trigger', value: 'error_rate' },
      { name: 'Alert', value: 'HighErrorRate' },
      { name: 'Decision', value: 'executed' },
      { name: 'Rollback', value: rollback.id },
    ]);
    expect(m).toMatchObject({ type: 'rollback_started', target: { namespace: 'prod', name: 'api' }, rollbackId: rollback.id, trigger: 'error_rate', dryRun: false });
  });

  it('leaves out links Alertmanager did not give (empty externalURL / generatorURL) and the report without receiverUrl', () => {
    const { event } = startedRollback();
    const d = (event as { decision: ReturnType<typeof decisionFixture> }).decision;
    d.group.externalURL = '';
    d.alert.generatorURL = 'not a url';
    expect(describeEvent(event).links).toEqual([]);
  });

  it('marks dry runs and shadow mode, at info severity', () => {
    const { event } = startedRollback({}, { dryRun: true, status: 'dry_run' });
    const m = describeEvent(event);
    expect(m.title).toBe('[dry run] Rollback planned: prod/api (deployment-undo, automatic)');
    expect(m.severity).toBe('info');
    expect(m.fields).toContainEqual({ name: 'Mode', value: 'dry run (nothing changed)' });
    const live = startedRollback();
    expect(isDryRunEvent(live.event)).toBe(false);
    expect(isDryRunEvent(live.event, true)).toBe(true);
    expect(describeEvent(live.event, { serviceDryRun: true }).title).toMatch(/^\[dry run\]/);
  });

  it('calls an emergency rollback critical', () => {
    const rollback = rollbackFixture({ kind: 'emergency', strategy: 'scale-swap', reason: 'p95 10s after release 2.3' });
    const m = describeEvent({ type: 'rollback_started', rollback });
    expect(m.title).toBe('Emergency rollback started: prod/api (scale-swap, emergency)');
    expect(m.severity).toBe('critical');
    expect(m.text).toBe('Reason: p95 10s after release 2.3');
  });

  it('words every event type', () => {
    const { rollback, decision } = startedRollback();
    const target = { namespace: 'prod', name: 'api' };
    const cases: [NotificationEvent, string, string][] = [
      [{ type: 'rollback_succeeded', rollback, detail: 'rollout complete', decision }, 'Rollback succeeded: prod/api (deployment-undo, automatic)', 'info'],
      [{ type: 'rollback_failed', rollback, detail: 'no previous revision' }, 'Rollback failed: prod/api (deployment-undo, automatic)', 'critical'],
      [escalation(target, 'verification_failed', 'rollout timed out'), 'Escalated: prod/api needs an operator (rollback verification failed)', 'critical'],
      [escalation(target, 'something_new', 'x'), 'Escalated: prod/api needs an operator (something_new)', 'critical'],
      [{ type: 'window_breached', rollback, metric: 'error_rate', value: 0.123456, threshold: 0.05 }, 'Still unhealthy after rollback: prod/api (error_rate 0.1235 > 0.05)', 'error'],
      [{ type: 'recovered', rollback, detail: 'window ended clean' }, 'Recovered: prod/api healthy after rollback', 'info'],
      [{ type: 'brake_tripped', detail: '10 rollbacks in 15m', decision }, 'Automatic rollbacks paused: global brake tripped', 'critical'],
      [{ type: 'notify_only', decision: { ...decision, decision: 'disabled' } }, 'Needs attention (no automatic rollback): prod/api (HighErrorRate)', 'critical'],
    ];
    for (const [event, title, severity] of cases) {
      const m = describeEvent(event);
      expect(m.title).toBe(title);
      expect(m.severity).toBe(severity);
    }
    const breach = describeEvent({ type: 'window_breached', rollback, metric: 'error_rate', value: 0.123456, threshold: 0.05 });
    expect(breach.fields).toEqual(expect.arrayContaining([{ name: 'Metric', value: 'error_rate' }, { name: 'Value', value: '0.1235' }, { name: 'Threshold', value: '0.05' }]));
    const esc = describeEvent(escalation(target, 'retries_exhausted', '5 attempts in 1h'));
    expect(esc.text).toBe('5 attempts in 1h');
    expect(esc.fields).toContainEqual({ name: 'Escalation', value: 'retries_exhausted' });
  });

  it('names the alert when a notify-only decision has no target', () => {
    const decision = decisionFixture({ namespace: null, name: null, decision: 'disabled', reason: 'trigger error_rate is notify-only' }, { labels: { severity: 'warning' } });
    const m = describeEvent({ type: 'notify_only', decision });
    expect(m.title).toBe('Needs attention (no automatic rollback): HighErrorRate');
    expect(m.severity).toBe('warning');
    expect(m.target).toBeNull();
    expect(m.text).toContain('Decision: disabled: trigger error_rate is notify-only');
  });

  it('builds report links from the receiver URL', () => {
    expect(reportUrl('https://rr.example.com///', 'abc')).toBe('https://rr.example.com/api/v1/rollbacks/abc/report');
    expect(reportUrl(undefined, 'abc')).toBeUndefined();
    expect(reportUrl('https://rr.example.com', null)).toBeUndefined();
  });
});
