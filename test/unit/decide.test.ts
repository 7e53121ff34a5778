/** Every guard, the guard order and every decision value, with an injected clock and no I/O. */
import type { Config } from '../../src/config/load.js';
import { decide, type Decision } from '../../src/decide.js';
import type { ClusterView, WorkloadFacts } from '../../src/guards/guard.js';
import { GUARDS } from '../../src/guards/index.js';
import { parsePayload } from '../../src/intake/parse.js';
import { DECISIONS, type Alert, type AlertGroup } from '../../src/model.js';
import type { PendingIntent } from '../../src/store/records.js';
import { StateIndex } from '../../src/store/state-index.js';
import { alert, payload, type AlertSpec } from '../support/alerts.js';
import { T0, testConfig } from '../support/service.js';

const MIN = 60_000;

function parse(spec: AlertSpec = {}): { alert: Alert; group: AlertGroup } {
  const parsed = parsePayload(payload([alert(spec)]));
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return { alert: parsed.payload.alerts[0]!, group: parsed.payload.group };
}

/** Decides like the dispatcher does: against a state that keeps every effect. */
class Decider {
  readonly state = new StateIndex();
  now = T0;
  private n = 0;
  cluster: ClusterView | null = null;

  constructor(readonly config: Config = testConfig()) {}

  decide(spec: AlertSpec = {}, redecide?: PendingIntent): Decision {
    const { alert: a, group } = redecide ? { alert: redecide.alert, group: redecide.group } : parse(spec);
    const d = decide({ alert: a, group, config: this.config, state: this.state, now: this.now, cluster: this.cluster, newId: () => `id-${++this.n}`, redecide });
    for (const e of d.effects) this.state.apply(e);
    return d;
  }

  /** A new alert (fresh fingerprint) for a target. */
  fire(labels: Record<string, string> = {}): Decision {
    return this.decide({ labels });
  }
}

function facts(over: Partial<WorkloadFacts> = {}): ClusterView {
  return { facts: () => ({ optInObject: 'Deployment prod/api', optedIn: true, ...over }) };
}

describe('guards', () => {
  it('run in the order of SPEC §1', () => {
    expect(GUARDS.map((g) => g.name)).toEqual([
      'resolved',
      'duplicate',
      'no_match',
      'disabled',
      'not_allowed',
      'frozen',
      'in_progress',
      'cooldown',
      'retries_exhausted',
      'rate_limited',
      'stale',
      'refused',
      'pending',
    ]);
  });

  it('1. resolved: never acts, and cancels the pending intent of the same alert', () => {
    const d = new Decider();
    const spec = { labels: { rollback_trigger: 'response_time' }, fingerprint: 'aaaa' };
    expect(d.decide(spec).record.decision).toBe('pending');
    const resolved = d.decide({ ...spec, status: 'resolved' });
    expect(resolved.record.decision).toBe('resolved');
    expect(resolved.record.reason).toMatch(/cancelled the pending intent id-1/);
    expect(resolved.effects.map((e) => e.type)).toContain('pending-close');
    expect(d.state.pendingIntents()).toHaveLength(0);
    expect(d.decide({ status: 'resolved' }).record.reason).toBe('alert resolved; nothing to do');
  });

  it('2. duplicate: same fingerprint and startsAt, whatever was decided first', () => {
    const d = new Decider();
    const spec = { fingerprint: 'bbbb' };
    expect(d.decide(spec).record.decision).toBe('dry_run');
    d.now += 10 * MIN;
    const again = d.decide(spec);
    expect(again.record.decision).toBe('duplicate');
    expect(again.record.reason).toMatch(/already decided at 2026-11-27T07:00:00.000Z as dry_run \(decision id-1\)/);
    // A new startsAt is a new firing of the same series.
    d.now += 10 * MIN;
    expect(d.decide({ fingerprint: 'bbbb', startsAt: '2026-11-27T07:15:00Z' }).record.decision).toBe('dry_run');
  });

  it('3. no_match: null trigger, target and strategy', () => {
    const r = new Decider().fire({ rollback_trigger: 'disk' }).record;
    expect(r).toMatchObject({ decision: 'no_match', trigger: null, namespace: null, name: null, strategy: null });
    expect(r.reason).toMatch(/no trigger matches alert HighErrorRate/);
  });

  it.each([
    ['rollback:\n  enabled: false\n', /rollback\.enabled is false/],
    ['rollback:\n  automatic: false\n', /rollback\.automatic is false/],
    ['rollback:\n  triggers:\n    - name: error_rate\n      automatic: false\n', /trigger error_rate has automatic: false/],
  ])('4. disabled: %p notifies only', (yaml, reason) => {
    const r = new Decider(testConfig(yaml)).fire().record;
    expect(r.decision).toBe('disabled');
    expect(r.reason).toMatch(reason);
  });

  it.each([
    [{ namespace: '' }, /no namespace label/],
    [{ namespace: 'kube-system' }, /namespace kube-system is denied/],
    [{ namespace: 'Prod' }, /not a valid RFC 1123 label/],
    [{ deployment: '' }, /names no workload/],
    [{ deployment: 'api/../../secrets' }, /label deployment: name .* is not a valid Kubernetes object name/],
    [{ rollback_strategy: 'yolo' }, /unknown strategy "yolo" from label rollback_strategy/],
    [{ deployment: `${'a'.repeat(246)}`, rollback_strategy: 'scale-swap' }, /longer than 253/],
  ])('5. not_allowed: %p', (labels, reason) => {
    const r = new Decider().fire(labels).record;
    expect(r.decision).toBe('not_allowed');
    expect(r.reason).toMatch(reason);
  });

  it('5. not_allowed: namespaces.allow limits the namespaces', () => {
    const d = new Decider(testConfig('rollback:\n  namespaces:\n    allow: [staging]\n'));
    expect(d.fire().record.reason).toBe('namespace prod is not in rollback.namespaces.allow');
    expect(d.fire({ namespace: 'staging' }).record.decision).toBe('dry_run');
  });

  it('5. not_allowed: a workload without the opt-in annotation, unless requireOptIn is off', () => {
    const d = new Decider();
    d.cluster = facts({ optedIn: false });
    expect(d.fire().record.reason).toBe('Deployment prod/api lacks the opt-in annotation rollback-receiver.io/enabled: "true"');
    const off = new Decider(testConfig('rollback:\n  requireOptIn: false\n'));
    off.cluster = facts({ optedIn: false });
    expect(off.fire().record.decision).toBe('dry_run');
  });

  it('6. frozen', () => {
    const d = new Decider();
    d.state.apply({ type: 'freeze', freeze: { since: T0 - MIN, reason: 'release train' } });
    expect(d.fire().record).toMatchObject({ decision: 'frozen', reason: 'automatic rollbacks frozen since 2026-11-27T06:59:00.000Z: release train' });
  });

  it('7. in_progress: one rollback per target at a time', () => {
    const d = new Decider(testConfig('', { ROLLBACK_DRY_RUN: 'false' }));
    const first = d.fire();
    expect(first.record.decision).toBe('executed');
    expect(first.rollback?.status).toBe('running');
    expect(d.fire().record).toMatchObject({ decision: 'in_progress', reason: 'a rollback of prod/api is running now' });
    d.state.apply({ type: 'rollback-finished', id: first.rollback!.id, target: { namespace: 'prod', name: 'api' }, status: 'success', at: d.now, steps: [] });
    expect(d.fire().record.decision).toBe('cooldown');
  });

  it('8. cooldown: cooldownPeriod from the last rollback, per-trigger override', () => {
    const d = new Decider();
    expect(d.fire().record.decision).toBe('dry_run');
    d.now += 5 * MIN - 1;
    const cooling = d.fire().record;
    expect(cooling.decision).toBe('cooldown');
    expect(cooling.reason).toBe('prod/api was rolled back at 2026-11-27T07:00:00.000Z; cooldown of 300s ends at 2026-11-27T07:05:00.000Z');
    expect(d.fire({ deployment: 'web' }).record.decision).toBe('dry_run'); // other targets are not affected
    d.now += 1;
    expect(d.fire().record.decision).toBe('dry_run');

    const custom = new Decider(testConfig('rollback:\n  triggers:\n    - name: error_rate\n      cooldownPeriod: 30m\n'));
    custom.fire();
    custom.now += 10 * MIN;
    expect(custom.fire().record.decision).toBe('cooldown');
  });

  it('9. retries_exhausted: maximumRetries attempts within retryWindow escalate once', () => {
    const d = new Decider(testConfig('rollback:\n  cooldownPeriod: 60\n  maximumRetries: 3\n  retryWindow: 1h\n'));
    for (let i = 0; i < 3; i++) {
      expect(d.fire().record.decision).toBe('dry_run');
      d.now += 2 * MIN;
    }
    const exhausted = d.fire();
    expect(exhausted.record.decision).toBe('retries_exhausted');
    expect(exhausted.record.reason).toMatch(/^3 rollback attempts on prod\/api within 3600s \(maximumRetries 3\)/);
    expect(exhausted.escalation).toEqual({ reason: 'retries_exhausted', target: { namespace: 'prod', name: 'api' } });
    // Escalated once: the next alert is still refused but does not page again.
    const again = d.fire();
    expect(again.record.decision).toBe('retries_exhausted');
    expect(again.escalation).toBeUndefined();
    // Once the oldest attempt leaves the window, the target may be rolled back again.
    d.now = T0 + 60 * MIN + 1;
    expect(d.fire().record.decision).toBe('dry_run');
  });

  it('8+9. an operator reset clears cooldown and attempts', () => {
    const d = new Decider();
    d.fire();
    d.state.apply({ type: 'guard-reset', target: { namespace: 'prod', name: 'api' }, at: d.now + 1 });
    d.now += 2;
    expect(d.fire().record.decision).toBe('dry_run');
  });

  it('10. rate_limited: the brake trips once and holds for a whole window', () => {
    const d = new Decider(testConfig('rollback:\n  brake:\n    max: 3\n    window: 10m\n'));
    for (const name of ['a', 'b', 'c']) expect(d.fire({ deployment: name }).record.decision).toBe('dry_run');
    const trip = d.fire({ deployment: 'd' });
    expect(trip.record.decision).toBe('rate_limited');
    expect(trip.brakeTripped).toBe(true);
    expect(trip.record.reason).toMatch(/global brake tripped: 3 automatic rollbacks within 600s \(brake\.max 3\); holds until 2026-11-27T07:10:00.000Z/);
    const held = d.fire({ deployment: 'e' });
    expect(held.brakeTripped).toBe(false); // trips once
    expect(held.record.reason).toBe('global brake tripped at 2026-11-27T07:00:00.000Z; holds until 2026-11-27T07:10:00.000Z');
    d.now += 10 * MIN;
    expect(d.fire({ deployment: 'f' }).record.decision).toBe('dry_run');
  });

  it('11. stale: the workload changed after the alert started', () => {
    const d = new Decider();
    d.cluster = facts({ revisionAt: Date.parse('2026-11-27T06:59:00Z') });
    expect(d.fire().record.reason).toMatch(/current revision of prod\/api dates from 2026-11-27T06:59:00.000Z, after the alert started at 2026-11-27T06:58:00.123Z/);
    d.cluster = facts({ revisionAt: Date.parse('2026-11-27T06:50:00Z') });
    expect(d.fire({ deployment: 'web' }).record.decision).toBe('dry_run');
  });

  it('12. refused: pre-rollback validation fails', () => {
    const d = new Decider();
    d.cluster = facts({ validationProblem: 'Deployment prod/api has no previous revision' });
    expect(d.fire().record).toMatchObject({ decision: 'refused', reason: 'Deployment prod/api has no previous revision' });
  });

  it('13. pending: actAfter from first sight, then decided again and linked', () => {
    const d = new Decider();
    const first = d.fire({ rollback_trigger: 'response_time' });
    expect(first.record).toMatchObject({ decision: 'pending', dueAt: T0 + 2 * MIN });
    expect(first.record.reason).toMatch(/acts after 120s: decided again at 2026-11-27T07:02:00.000Z/);
    const [intent] = d.state.pendingIntents();
    d.now = intent!.dueAt;
    const final = d.decide({}, intent);
    expect(final.record).toMatchObject({ decision: 'dry_run', pendingOf: first.record.id });
    expect(d.state.pendingIntents()).toHaveLength(0);
    // The series is now decided as dry_run for dedup purposes.
    expect(d.state.decided(intent!.key)?.decision).toBe('dry_run');
  });

  it('13. a pending intent decided again still meets every guard (freeze since)', () => {
    const d = new Decider();
    d.fire({ rollback_trigger: 'cpu' });
    const [intent] = d.state.pendingIntents();
    d.state.apply({ type: 'freeze', freeze: { since: T0 + MIN, reason: '' } });
    d.now = intent!.dueAt;
    expect(d.decide({}, intent).record.decision).toBe('frozen');
  });

  it('14. executed (live) and dry_run, with the reason saying which checks were skipped', () => {
    const dry = new Decider().fire();
    expect(dry.record.decision).toBe('dry_run');
    expect(dry.record.reason).toBe(
      'dry-run: would roll back prod/api with deployment-undo (trigger error_rate); opt-in, stale and validation checks skipped: no cluster configured',
    );
    expect(dry.rollback).toMatchObject({ status: 'dry_run', kind: 'automatic', dryRun: true, finishedAt: T0 });
    expect(dry.record.rollbackId).toBe(dry.rollback!.id);
    const live = new Decider(testConfig('', { ROLLBACK_DRY_RUN: 'false' }));
    live.cluster = facts();
    expect(live.fire().record).toMatchObject({ decision: 'executed', reason: 'rolling back prod/api with deployment-undo (trigger error_rate)' });
  });

  it('takes target and strategy from labels in SPEC §4 order', () => {
    const d = new Decider(testConfig('rollback:\n  triggers:\n    - name: error_rate\n      strategy: blue-green\n'));
    expect(d.fire({ deployment: 'api', rollback_target: 'checkout', rollback_strategy: 'scale-swap' }).record).toMatchObject({
      name: 'checkout',
      strategy: 'scale-swap',
    });
    expect(d.fire({ deployment: '', release: 'shop', namespace: 'a' }).record).toMatchObject({ name: 'shop', strategy: 'blue-green' });
    expect(d.fire({ deployment: '', service: 'front', namespace: 'b' }).record).toMatchObject({ name: 'front' });
    expect(new Decider().fire().record.strategy).toBe('deployment-undo');
  });

  it('earlier guards win: a frozen, cooling, denied alert is not_allowed; a frozen cooling one is frozen', () => {
    const d = new Decider();
    d.fire();
    d.state.apply({ type: 'freeze', freeze: { since: T0, reason: '' } });
    expect(d.fire().record.decision).toBe('frozen');
    expect(d.fire({ namespace: 'kube-system' }).record.decision).toBe('not_allowed');
    expect(d.fire({ rollback_trigger: 'nope' }).record.decision).toBe('no_match');
  });

  it('dry-run counts like live: cooldown, retries and brake all see dry-run rollbacks', () => {
    const d = new Decider(testConfig('rollback:\n  brake:\n    max: 1\n    window: 1m\n'));
    d.fire();
    expect(d.fire().record.decision).toBe('cooldown');
    expect(d.fire({ deployment: 'other' }).record.decision).toBe('rate_limited');
  });

  it('can produce every decision value', () => {
    const seen = new Set<string>();
    const d = new Decider(testConfig('rollback:\n  maximumRetries: 1\n  cooldownPeriod: 1\n  brake:\n    max: 2\n    window: 1h\n'));
    const rec = (x: Decision) => seen.add(x.record.decision);
    rec(d.decide({ status: 'resolved' }));
    rec(d.fire());
    rec(d.decide({ fingerprint: '0000000000000001' }));
    rec(d.decide({ fingerprint: '0000000000000001' }));
    rec(d.fire({ rollback_trigger: 'nope' }));
    rec(d.fire({ namespace: 'kube-system' }));
    rec(d.fire());
    d.now += 2000;
    rec(d.fire());
    rec(d.fire({ deployment: 'b' }));
    rec(d.fire({ deployment: 'c' }));
    rec(new Decider().fire({ rollback_trigger: 'memory' }));
    rec(new Decider(testConfig('rollback:\n  automatic: false\n')).fire());
    const frozen = new Decider();
    frozen.state.apply({ type: 'freeze', freeze: { since: T0, reason: '' } });
    rec(frozen.fire());
    const live = new Decider(testConfig('', { ROLLBACK_DRY_RUN: 'false' }));
    rec(live.fire());
    rec(live.fire());
    const stale = new Decider();
    stale.cluster = facts({ revisionAt: T0 });
    rec(stale.fire());
    stale.cluster = facts({ validationProblem: 'no previous revision' });
    rec(stale.fire({ deployment: 'x' }));
    expect([...seen].sort()).toEqual([...DECISIONS].sort());
  });
});
