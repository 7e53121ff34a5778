import { parsePayload } from '../../src/intake/parse.js';
import { historyQuery } from '../../src/report/build.js';
import { renderReport, sparkline } from '../../src/report/markdown.js';
import { testConfig } from '../support/service.js';
import type { DecisionRecord, RollbackRecord } from '../../src/store/records.js';
import { alert, payload } from '../support/alerts.js';

const T = Date.parse('2026-11-27T07:00:00Z');

function decision(): DecisionRecord {
  const parsed = parsePayload(payload([alert({ startsAt: '2026-11-27T06:55:00Z', annotations: { summary: 'error rate 23%', runbook_url: 'https://runbooks/rollback' } })]));
  if (!parsed.ok) throw new Error('fixture');
  return {
    id: 'd1',
    at: T,
    alert: parsed.payload.alerts[0]!,
    group: parsed.payload.group,
    trigger: 'error_rate',
    namespace: 'prod',
    name: 'api',
    strategy: 'deployment-undo',
    decision: 'executed',
    reason: 'rolling back prod/api with deployment-undo (trigger error_rate)',
    rollbackId: 'rb1',
    pendingOf: null,
    dueAt: null,
  };
}

function rollback(over: Partial<RollbackRecord> = {}): RollbackRecord {
  return {
    id: 'rb1',
    namespace: 'prod',
    name: 'api',
    strategy: 'deployment-undo',
    kind: 'automatic',
    status: 'success',
    reason: 'error_rate: HighErrorRate (error rate 23%)',
    trigger: 'error_rate',
    decisionId: 'd1',
    startedAt: T,
    finishedAt: T + 95_000,
    dryRun: false,
    objects: ['Deployment:prod/api'],
    pin: null,
    steps: [
      { at: T + 1000, name: 'inspected', detail: '{"revision":2}' },
      { at: T + 2000, name: 'request', detail: 'restore revision 1', request: { method: 'PATCH', path: '/apis/apps/v1/namespaces/prod/deployments/api' } },
      { at: T + 90_000, name: 'verified', detail: 'deployment "api" successfully rolled out' },
    ],
    ...over,
  };
}

describe('incident report', () => {
  it('has the seed template sections, the alert, the timeline in order and the RTO verdict', () => {
    const md = renderReport({
      rollback: rollback(),
      decision: decision(),
      window: {
        window: { id: 'w1', rollbackId: 'rb1', namespace: 'prod', name: 'api', deployment: 'api', startedAt: T + 95_000, endsAt: T + 1_895_000, intervalMs: 60_000, status: 'recovered', escalation: null, finishedAt: T + 1_895_000 },
        samples: [{ windowId: 'w1', at: T + 155_000, metric: 'error_rate', value: 0.01, threshold: 0.05, state: 'ok', detail: '' }],
      },
      history: { query: 'sum(rate(x[5m]))', points: [{ at: T - 120_000, value: 0.02 }, { at: T - 60_000, value: 0.23 }] },
      contacts: [{ role: 'DevOps Lead', contact: 'devops-lead@example.com', availability: '24/7' }],
      generatedAt: T + 2_000_000,
      reportUrl: 'https://rr.example.com/api/v1/rollbacks/rb1/report',
    });
    for (const heading of ['# Incident Report: Rollback rb1', '## Summary', '## Triggering Alerts', '## Triggering Metric (the hour before)', '## Timeline', '## State Before and After', '## Resolution', '## Escalation Contacts', '## Root Cause', '## Prevention']) {
      expect(md).toContain(heading);
    }
    expect(md).toContain('- Incident Start: 2026-11-27T06:55:00Z (alert HighErrorRate started firing)');
    expect(md).toContain('- Impact Duration: 6m35s (alert start to verified rollback)');
    expect(md).toContain('- Recovery Time: 1m35s against the automatic RTO of 5m: met');
    expect(md).toContain('  - runbook_url: https://runbooks/rollback');
    expect(md).toContain('| DevOps Lead | devops-lead@example.com | 24/7 |');
    expect(md).toContain('min 0.02000, max 0.2300, last 0.2300');
    const timeline = md.slice(md.indexOf('## Timeline'), md.indexOf('## State'));
    const order = ['alert HighErrorRate started firing', 'webhook received; decision executed', 'request: restore revision 1', 'verified:', 'monitoring window opened', 'sample: error_rate 0.01000 (ok)', 'monitoring window ended: recovered'];
    const positions = order.map((e) => timeline.indexOf(e));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('says when the RTO was missed or the rollback did not recover, and for manual rollbacks that no alert triggered it', () => {
    const slow = renderReport({ rollback: rollback({ kind: 'emergency', decisionId: null, finishedAt: T + 300_000, steps: [{ at: T + 300_000, name: 'verified', detail: 'ok' }] }), contacts: [], generatedAt: T });
    expect(slow).toContain('- Recovery Time: 5m against the emergency RTO of 2m: MISSED');
    expect(slow).toContain('None: an operator requested this emergency rollback.');
    expect(slow).toContain('None configured (report.escalationContacts).');
    const failed = renderReport({ rollback: rollback({ status: 'escalated', steps: [{ at: T + 10_000, name: 'verification-failed', detail: 'progress deadline exceeded' }] }), contacts: [], generatedAt: T });
    expect(failed).toContain('- Recovery Time: not recovered by the rollback (escalated)');
    expect(failed).toContain('Escalated to manual intervention: progress deadline exceeded');
  });

  it('draws a sparkline', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([5, 5])).toBe('▁▁');
    expect(sparkline([])).toBe('');
  });
});

describe('the report queries only configured PromQL', () => {
  const config = testConfig();
  const target = { namespace: 'prod', name: 'api' };

  it('takes the query of the trigger\'s monitoring metric from the configuration', () => {
    expect(historyQuery(config, 'error_rate', target)).toMatch(/namespace="prod"/);
  });

  it('has no query for a trigger without a configured metric, whatever the alert carried', () => {
    expect(historyQuery(config, 'health_check', target)).toBeUndefined();
  });

  it('shows the alert\'s generatorURL only as a link, never runs its expression', () => {
    const evil = 'http://prometheus/graph?g0.expr=count(%7B__name__%3D~%22.%2B%22%7D)';
    const r = rollback();
    const d = decision();
    const md = renderReport({ rollback: r, decision: { ...d, alert: { ...d.alert, generatorURL: evil } }, contacts: [], generatedAt: T + 200_000 });
    expect(md).toContain(`Source: ${evil}`);
    expect(md).toMatch(/No query: the trigger has no monitoring metric in the configuration/);
  });
});
