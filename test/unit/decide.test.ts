/** Every guard, the guard order and every decision value, with an injected clock and no I/O. */
import type { Silence, SilenceCheck } from '../../src/alertmanager/silence.js';
import type { Config } from '../../src/config/load.js';
import { decide, decideOperator, type Decision, type OperatorRequest } from '../../src/decide.js';
import type { ClusterView, WorkloadFacts } from '../../src/guards/guard.js';
import { ALERT_GUARDS } from '../../src/guards/index.js';
import { parsePayload } from '../../src/intake/parse.js';
import { DECISIONS, type Alert, type AlertGroup, type Revision } from '../../src/model.js';
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
  silences: SilenceCheck | undefined;

  constructor(readonly config: Config = testConfig()) {}

  decide(spec: AlertSpec = {}, redecide?: PendingIntent): Decision {
    const { alert: a, group } = redecide ? { alert: redecide.alert, group: redecide.group } : parse(spec);
    const d = decide({ alert: a, group, config: this.config, state: this.state, now: this.now, cluster: this.cluster, newId: () => `id-${++this.n}`, redecide, silences: this.silences });
    for (const e of d.effects) this.state.apply(e);
    return d;
  }

  /** A new alert (fresh fingerprint) for a target. */
  fire(labels: Record<string, string> = {}): Decision {
    return this.decide({ labels });
  }
}

export const V1: Revision = { id: 'aaaaaaaaaaa1', number: 1, label: 'revision 1 (app:v1)', images: ['app:v1'] };
export const V2: Revision = { id: 'bbbbbbbbbbb2', number: 2, label: 'revision 2 (app:broken)', images: ['app:broken'] };

function facts(over: Partial<WorkloadFacts> = {}): ClusterView {
  return { facts: () => ({ optInObject: 'Deployment prod/api', optedIn: true, current: V2, candidates: [V1], ...over }), skipped: () => undefined };
}

describe('guards', () => {
  it('run in the order of SPEC §1', () => {
    expect(ALERT_GUARDS.map((g) => g.name)).toEqual([
      'resolved',
      'duplicate',
      'no_match',
      'disabled',
      'not_allowed',
      'frozen',
      'silenced',
      'in_progress',
      'cooldown',
      'retries_exhausted',
      'rate_limited',
      'stale',
      'revision_age',
      'gitops',
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

  describe('6a. silenced: a person silenced the alert in Alertmanager', () => {
    const silence = (over: Partial<Silence> = {}): Silence => ({
      id: 'a1b2',
      matchers: [
        { name: 'namespace', value: 'prod', isRegex: false, isEqual: true },
        { name: 'alertname', value: 'High.*', isRegex: true, isEqual: true },
      ],
      startsAt: '2026-11-27T06:00:00.000Z',
      endsAt: '2026-11-27T09:00:00.000Z',
      createdBy: 'alice',
      comment: 'INC-7: investigating by hand',
      state: 'active',
      ...over,
    });

    it('stops the rollback and names the silence', () => {
      const d = new Decider();
      d.silences = { ok: true, silences: [silence()] };
      expect(d.fire({ alertname: 'HighErrorRate' }).record).toMatchObject({
        decision: 'silenced',
        reason:
          'silenced in Alertmanager by alice (silence a1b2, until 2026-11-27T09:00:00.000Z: INC-7: investigating by hand; matchers namespace="prod", alertname=~"High.*"): nothing is done',
      });
    });

    it('ignores the receiver\'s own, expired or pending silences, and silences whose matchers do not all match', () => {
      const d = new Decider();
      d.silences = {
        ok: true,
        silences: [
          silence({ createdBy: 'rollback-receiver' }),
          silence({ state: 'expired' }),
          silence({ state: 'pending' }),
          silence({ matchers: [{ name: 'alertname', value: 'High.*', isRegex: true, isEqual: false }] }),
          // Anchored as in Alertmanager: "High" alone does not match HighErrorRate.
          silence({ matchers: [{ name: 'alertname', value: 'High', isRegex: true }] }),
        ],
      };
      expect(d.fire({ alertname: 'HighErrorRate' }).record.decision).toBe('dry_run');
    });

    it('comes after frozen and before in_progress', () => {
      const d = new Decider();
      d.silences = { ok: true, silences: [silence({ matchers: [{ name: 'namespace', value: 'prod', isRegex: false }] })] };
      d.state.apply({ type: 'freeze', freeze: { since: T0, reason: '' } });
      expect(d.fire().record.decision).toBe('frozen');
    });

    it('proceeds when Alertmanager could not be asked, and the reason says the check was skipped', () => {
      const d = new Decider();
      d.silences = { ok: false, problem: 'Alertmanager at http://am:9093 is unreachable: no answer within 2000 ms' };
      expect(d.fire().record).toMatchObject({
        decision: 'dry_run',
        reason: expect.stringMatching(/; silence check skipped: Alertmanager at http:\/\/am:9093 is unreachable: no answer within 2000 ms$/),
      });
      // Decisions before the check do not mention it.
      expect(d.fire({ rollback_trigger: 'nope' }).record.reason).not.toMatch(/silence check/);
    });
  });

  it('7. in_progress: one rollback per target at a time', () => {
    const d = new Decider(testConfig('', { ROLLBACK_DRY_RUN: 'false' }));
    const first = d.fire();
    expect(first.record.decision).toBe('executed');
    expect(first.rollback?.status).toBe('running');
    expect(d.fire().record).toMatchObject({ decision: 'in_progress', reason: `rollback ${first.rollback!.id} of prod/api is running (since 2026-11-27T07:00:00.000Z)` });
    d.state.apply({ type: 'rollback-finished', id: first.rollback!.id, target: { namespace: 'prod', name: 'api' }, status: 'success', at: d.now, steps: [] });
    expect(d.fire().record.decision).toBe('cooldown');
  });

  it('7. in_progress: targets that share an object exclude each other (blue-green api holds Deployment api-blue)', () => {
    const d = new Decider(testConfig('', { ROLLBACK_DRY_RUN: 'false' }));
    const bg = d.fire({ rollback_strategy: 'blue-green' });
    expect(bg.rollback?.objects).toEqual(['Service:prod/api', 'Deployment:prod/api-blue', 'Deployment:prod/api-green']);
    const undo = d.fire({ deployment: 'api-blue' }).record;
    expect(undo.decision).toBe('in_progress');
    expect(undo.reason).toMatch(/rollback .* of prod\/api is running .* and changes the same objects as prod\/api-blue/);
    expect(d.fire({ deployment: 'api-current' }).record.decision).toBe('executed');
  });

  it('8. cooldown counts from the end of the rollback (verification included), not its start', () => {
    const d = new Decider(testConfig('', { ROLLBACK_DRY_RUN: 'false' }));
    const first = d.fire();
    d.now += 10 * MIN; // a long verification
    d.state.apply({ type: 'rollback-finished', id: first.rollback!.id, target: { namespace: 'prod', name: 'api' }, status: 'success', at: d.now, steps: [] });
    d.now += 5 * MIN - 1;
    expect(d.fire().record).toMatchObject({ decision: 'cooldown', reason: expect.stringMatching(/ended at 2026-11-27T07:10:00.000Z; cooldown of 300s ends at 2026-11-27T07:15:00.000Z/) });
    d.now += 1;
    expect(d.fire().record.decision).toBe('executed');
  });

  it('8. cooldown: cooldownPeriod from the last rollback, per-trigger override', () => {
    const d = new Decider();
    expect(d.fire().record.decision).toBe('dry_run');
    d.now += 5 * MIN - 1;
    const cooling = d.fire().record;
    expect(cooling.decision).toBe('cooldown');
    expect(cooling.reason).toBe('the last rollback of prod/api ended at 2026-11-27T07:00:00.000Z; cooldown of 300s ends at 2026-11-27T07:05:00.000Z');
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
    expect(d.fire().record.reason).toMatch(/current revision of prod\/api dates from 2026-11-27T06:59:00.000Z, after the evidence began at 2026-11-27T06:58:00.123Z/);
    d.cluster = facts({ revisionAt: Date.parse('2026-11-27T06:50:00Z') });
    expect(d.fire({ deployment: 'web' }).record.decision).toBe('dry_run');
  });

  it('12. refused: pre-rollback validation fails', () => {
    const d = new Decider();
    d.cluster = facts({ validationProblem: 'Deployment prod/api has no previous revision' });
    expect(d.fire().record).toMatchObject({ decision: 'refused', reason: 'Deployment prod/api has no previous revision' });
  });

  describe('12. refused: deploy correlation (maxRevisionAge)', () => {
    const STARTS = Date.parse('2026-11-27T06:58:00.123Z');
    const withLimit = () => new Decider(testConfig('rollback:\n  triggers:\n    - name: error_rate\n      maxRevisionAge: 10m\n'));

    it('acts on a revision that went out less than maxRevisionAge before the alert started', () => {
      const d = withLimit();
      d.cluster = facts({ revisionAt: STARTS - 10 * MIN + 1 });
      const ok = d.fire();
      expect(ok.record.decision).toBe('dry_run');
      expect(ok.notify).toBe(false);
    });

    it('refuses an older revision, names its age, and asks for a notification', () => {
      const d = withLimit();
      d.cluster = facts({ revisionAt: STARTS - 10 * MIN, changedBy: 'kubectl (Update)' });
      const old = d.fire();
      expect(old.record.decision).toBe('refused');
      expect(old.record.reason).toBe(
        'the current revision of prod/api went out at 2026-11-27T06:48:00.123Z (by kubectl (Update)), 600s before the alert started at 2026-11-27T06:58:00.123Z: older than maxRevisionAge 600s of trigger error_rate, so the alert is not about a recent deploy',
      );
      expect(old.notify).toBe(true);
      expect(old.rollback).toBeUndefined();
    });

    it('refuses when the deploy time is unknown, and does not apply to triggers without the limit', () => {
      const d = withLimit();
      d.cluster = facts();
      expect(d.fire().record).toMatchObject({ decision: 'refused', reason: expect.stringMatching(/went out is unknown/) });
      const unlimited = new Decider();
      unlimited.cluster = facts({ revisionAt: STARTS - 1000 * MIN });
      expect(unlimited.fire().record.decision).toBe('dry_run');
    });
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
    const executed = live.fire();
    expect(executed.record).toMatchObject({
      decision: 'executed',
      reason: 'rolling back prod/api with deployment-undo (trigger error_rate) from revision 2 (app:broken) to revision 1 (app:v1), not yet proven',
    });
    // Pinned at admission, with its time (helm stores it in the revision it writes).
    expect(executed.rollback?.pin).toEqual({ from: V2, to: V1, note: 'not yet proven', pinnedAt: live.now });
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
    const silenced = new Decider();
    silenced.silences = { ok: true, silences: [{ id: 's', matchers: [{ name: 'namespace', value: 'prod', isRegex: false }], startsAt: '', endsAt: '', createdBy: 'bob', comment: '', state: 'active' }] };
    rec(silenced.fire());
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

describe('destinations: no undo of an undo', () => {
  const TARGET = { namespace: 'prod', name: 'api' };
  const V3: Revision = { id: 'ccccccccccc3', number: 3, label: 'revision 3 (app:v3)', images: ['app:v3'] };

  function live(): Decider {
    const d = new Decider(testConfig('', { ROLLBACK_DRY_RUN: 'false' }));
    d.cluster = facts();
    return d;
  }

  function finish(d: Decider, id: string): void {
    d.state.apply({ type: 'rollback-finished', id, target: TARGET, status: 'success', at: d.now, steps: [] });
  }

  it('quarantines the revision it rolls away from, and escalates (once) instead of rolling back from what it installed', () => {
    const d = live();
    const first = d.fire();
    expect(first.rollback?.pin).toMatchObject({ from: V2, to: V1 });
    expect(d.state.revisions(TARGET).get(V2.id)).toMatchObject({ status: 'bad', rollbackId: first.rollback!.id });
    expect(d.state.revisions(TARGET).get(V1.id)).toMatchObject({ status: 'installed', rollbackId: first.rollback!.id });
    finish(d, first.rollback!.id);
    d.now += 10 * MIN;
    // The cluster now serves what the receiver installed (renumbered: revision 3), the broken one is older.
    d.cluster = facts({ current: { ...V1, number: 3, label: 'revision 3 (app:v1)' }, candidates: [V2] });
    const again = d.fire();
    expect(again.record.decision).toBe('refused');
    expect(again.record.reason).toMatch(/the alert is about revision 3 \(app:v1\), which the receiver itself installed \(rollback .*, not yet proven\): it does not roll further back; escalated/);
    expect(again.escalation).toEqual({ reason: 'no_safe_destination', target: TARGET });
    expect(again.rollback).toBeUndefined();
    const third = d.fire({ rollback_trigger: 'health_check' });
    expect(third.record.decision).toBe('refused');
    expect(third.escalation).toBeUndefined(); // one escalation per revision
  });

  it('goes to the newest older revision that is not bad, and says whether it is proven', () => {
    const d = live();
    d.state.apply({ type: 'revision-mark', target: TARGET, mark: { revision: V2, status: 'bad', since: T0 - 60 * MIN, rollbackId: 'old' } });
    d.state.apply({ type: 'revision-mark', target: TARGET, mark: { revision: V1, status: 'known-good', since: T0 - 30 * MIN, rollbackId: 'older' } });
    d.cluster = facts({ current: V3, candidates: [V2, V1] });
    const r = d.fire();
    expect(r.rollback?.pin?.to).toEqual(V1);
    expect(r.record.reason).toMatch(/from revision 3 \(app:v3\) to revision 1 \(app:v1\), known-good since 2026-11-27T06:30:00.000Z$/);
  });

  it('refuses and escalates when every older revision is quarantined; an operator clears it', () => {
    const d = live();
    d.state.apply({ type: 'revision-mark', target: TARGET, mark: { revision: V1, status: 'bad', since: T0 - MIN, rollbackId: 'x' } });
    const r = d.fire();
    expect(r.record).toMatchObject({ decision: 'refused', reason: 'no revision older than revision 2 (app:broken) is safe to roll back to: revision 1 (app:v1) quarantined since 2026-11-27T06:59:00.000Z' });
    expect(r.escalation?.reason).toBe('no_safe_destination');
    d.state.apply({ type: 'quarantine-clear', target: TARGET, revisionId: V1.id, at: d.now });
    expect(d.fire().record.decision).toBe('executed');
  });

  it('a monitoring window cannot clear a quarantine', () => {
    const d = live();
    d.state.apply({ type: 'revision-mark', target: TARGET, mark: { revision: V1, status: 'bad', since: T0, rollbackId: 'x' } });
    d.state.apply({ type: 'revision-mark', target: TARGET, mark: { revision: V1, status: 'known-good', since: T0 + 1, rollbackId: 'y' } });
    expect(d.state.revisions(TARGET).get(V1.id)?.status).toBe('bad');
  });

  it('dry-run records the quarantine in its shadow state exactly as live would', () => {
    const d = new Decider();
    d.cluster = facts();
    const r = d.fire();
    expect(r.record.decision).toBe('dry_run');
    expect(r.rollback?.pin).toMatchObject({ from: V2, to: V1 });
    expect(d.state.revisions(TARGET).get(V2.id)?.status).toBe('bad');
  });
});

describe('operator requests meet the guards of their kind', () => {
  const TARGET = { namespace: 'prod', name: 'api' };
  const live = () => {
    const d = new Decider(testConfig('', { ROLLBACK_DRY_RUN: 'false' }));
    d.cluster = facts();
    return d;
  };
  const request = (d: Decider, kind: OperatorRequest['kind'], over: Partial<OperatorRequest> = {}, cluster = d.cluster!) => {
    const out = decideOperator({
      request: { target: TARGET, strategy: 'deployment-undo', kind, reason: 'test', explicit: {}, ...over },
      config: d.config,
      state: d.state,
      now: d.now,
      cluster,
      newId: () => `op-${d.now}-${kind}`,
    });
    for (const e of out.effects) d.state.apply(e);
    return out;
  };

  it('one writer: a manual or emergency request for a target whose rollback runs is refused with that rollback id', () => {
    const d = live();
    const alertRollback = d.fire().rollback!;
    for (const kind of ['manual', 'emergency', 'automatic'] as const) {
      const r = request(d, kind);
      expect(r).toMatchObject({ admitted: false, verdict: { decision: 'in_progress' }, runningId: alertRollback.id });
    }
  });

  it('manual: validation and destination; may name a quarantined revision explicitly, automatic may not', () => {
    const d = live();
    d.state.apply({ type: 'revision-mark', target: TARGET, mark: { revision: V1, status: 'bad', since: T0, rollbackId: 'x' } });
    expect(request(d, 'manual')).toMatchObject({ admitted: false, verdict: { decision: 'refused', reason: expect.stringMatching(/an operator may name one explicitly/) } });
    expect(request(d, 'automatic', { explicit: { toRevision: 1 } })).toMatchObject({ admitted: false, verdict: { reason: expect.stringMatching(/revision 1 \(app:v1\) is quarantined/) } });
    const named = request(d, 'manual', { explicit: { toRevision: 1 } });
    expect(named).toMatchObject({ admitted: true, rollback: { kind: 'manual', status: 'running', pin: { from: V2, to: V1 } } });
    expect(request(d, 'manual', { explicit: { rollbackTag: 'v9' } })).toMatchObject({ admitted: false });
  });

  it('manual refuses on a validation problem; emergency skips validation but still needs a destination', () => {
    const d = live();
    const paused = facts({ validationProblem: 'Deployment prod/api is paused' });
    expect(request(d, 'manual', {}, paused)).toMatchObject({ admitted: false, verdict: { decision: 'refused', reason: 'Deployment prod/api is paused' } });
    expect(request(d, 'emergency', {}, paused)).toMatchObject({ admitted: true });
    const d2 = live();
    expect(request(d2, 'emergency', {}, facts({ candidates: [] }))).toMatchObject({ admitted: false, verdict: { reason: expect.stringMatching(/no previous revision/) } });
  });

  it('automatic (--automatic) meets opt-in, freeze, cooldown and stale like an alert', () => {
    const d = live();
    expect(request(d, 'automatic', {}, facts({ optedIn: false }))).toMatchObject({ verdict: { decision: 'not_allowed' } });
    d.state.apply({ type: 'freeze', freeze: { since: T0, reason: '' } });
    expect(request(d, 'automatic')).toMatchObject({ verdict: { decision: 'frozen' } });
    expect(request(d, 'manual')).toMatchObject({ admitted: true }); // the freeze holds automatic rollbacks only
    d.state.apply({ type: 'freeze', freeze: null });
    const d2 = live();
    expect(request(d2, 'automatic', { detectedAt: T0 - 5 * MIN }, facts({ revisionAt: T0 - MIN }))).toMatchObject({ verdict: { decision: 'stale' } });
    const first = request(d2, 'automatic');
    expect(first.admitted).toBe(true);
    if (first.admitted) d2.state.apply({ type: 'rollback-finished', id: first.rollback.id, target: TARGET, status: 'success', at: d2.now, steps: [] });
    expect(request(d2, 'automatic')).toMatchObject({ verdict: { decision: 'cooldown' } });
  });
});

describe('strategies that widen the facts (helm)', () => {
  const TARGET = { namespace: 'prod', name: 'shop' };
  const H1: Revision = { id: 'c1c1c1c1c1c1', number: 1, label: 'revision 1 (shop-0.1.0)', images: ['app:v1'] };
  const H2: Revision = { id: 'c2c2c2c2c2c2', number: 2, label: 'revision 2 (shop-0.2.0)', images: ['app:v2'] };
  const H3: Revision = { id: 'c3c3c3c3c3c3', number: 3, label: 'revision 3 (shop-0.3.0)', images: ['app:broken'] };
  const helmFacts = (over: Partial<WorkloadFacts> = {}): ClusterView => ({
    // Revision 2 failed: not a candidate for automatic rollbacks, but an operator may name it.
    facts: () => ({ optInObject: 'Deployment prod/shop', optedIn: true, current: H3, candidates: [H1], nameable: [H2, H1], operatorDefault: 2, objects: ['Deployment:prod/shop', 'ConfigMap:prod/shop-config'], ...over }),
    skipped: () => undefined,
  });
  const operator = (d: Decider, explicit: OperatorRequest['explicit'], cluster = d.cluster!) =>
    decideOperator({ request: { target: TARGET, strategy: 'helm', kind: 'manual', reason: 'test', explicit }, config: d.config, state: d.state, now: d.now, cluster, newId: () => 'op' });
  const live = (cluster: ClusterView) => {
    const d = new Decider(testConfig('', { ROLLBACK_DRY_RUN: 'false' }));
    d.cluster = cluster;
    return d;
  };

  it('operators: none or 0 restores the strategy default (current − 1), a named revision may be any other one', () => {
    const d = live(helmFacts());
    for (const explicit of [{}, { toRevision: 0 }]) expect(operator(d, explicit)).toMatchObject({ admitted: true, rollback: { pin: { from: H3, to: H2 } } });
    expect(operator(d, { toRevision: 1 })).toMatchObject({ admitted: true, rollback: { pin: { from: H3, to: H1 } } });
    expect(operator(d, { toRevision: 3 })).toMatchObject({ admitted: false, verdict: { reason: 'revision 3 is the current revision' } });
  });

  it('alerts only go to candidates: the newest one not quarantined', () => {
    const d = live(helmFacts());
    expect(d.fire({ release: 'shop', deployment: '', rollback_strategy: 'helm' }).rollback?.pin).toMatchObject({ from: H3, to: H1 });
  });

  it('a destination that cannot be restored is refused with why, never skipped for an older one', () => {
    const d = live(helmFacts({ candidates: [H2, H1], unrestorable: { [H2.id]: 'unsupported kinds: CronJob' } }));
    const r = d.fire({ release: 'shop', deployment: '', rollback_strategy: 'helm' });
    expect(r.record).toMatchObject({ decision: 'refused', reason: 'revision 2 (shop-0.2.0) cannot be restored: unsupported kinds: CronJob' });
  });

  it("locks the objects the cluster says the rollback changes: a deployment-undo of the release's Deployment waits", () => {
    const d = live(helmFacts());
    const helm = d.fire({ release: 'shop', deployment: '', rollback_strategy: 'helm' });
    expect(helm.rollback?.objects).toEqual(['HelmRelease:prod/shop', 'Deployment:prod/shop', 'ConfigMap:prod/shop-config']);
    d.cluster = facts();
    expect(d.fire({ deployment: 'shop' }).record).toMatchObject({ decision: 'in_progress' });
  });
});
