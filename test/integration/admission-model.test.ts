/**
 * A model-based property test (fast-check) of the admission state machine: the real
 * dispatcher, decisions, ledger and SQLite store, driven by random interleavings of alerts
 * (firing, resolved, re-sent), operator requests of every kind, bursts of both in one turn
 * of the event loop, rollbacks finishing, pending intents coming due, deploys, restarts
 * (the state rebuilt from the file) and clock jumps both ways. The cluster is a model the
 * executor port reads from; every admission is checked against SPEC's invariants:
 *   - never two running rollbacks holding one object (overlapping targets included);
 *   - never an automatic rollback inside its target's cooldown;
 *   - never an automatic rollback to a quarantined revision.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { parsePayload } from '../../src/intake/parse.js';
import { targetKey, type RollbackKind, type StrategyName, type Target } from '../../src/model.js';
import type { RollbackRecord } from '../../src/store/records.js';
import { alert, payload } from '../support/alerts.js';
import { ModelCluster, modelReplica, type ModelReplica } from '../support/model-cluster.js';
import { T0, testConfig } from '../support/service.js';

const COOLDOWN_MS = 60_000;
const config = (dir: string) =>
  testConfig(
    `rollback:\n  cooldownPeriod: 60s\n  maximumRetries: 1000\n  brake: { max: 1000, window: 15m }\n  triggers:\n    - name: error_rate\n    - name: response_time\n      actAfter: 30s\n`,
    { ROLLBACK_DRY_RUN: 'false' },
    dir,
  );

/** Targets as alerts name them; blue-green `web` shares Deployment `web-blue` with deployment-undo `web-blue`. */
const TARGETS: { target: Target; strategy: StrategyName; labels: Record<string, string> }[] = [
  { target: { namespace: 'prod', name: 'api' }, strategy: 'deployment-undo', labels: { deployment: 'api' } },
  { target: { namespace: 'prod', name: 'web' }, strategy: 'blue-green', labels: { rollback_target: 'web', rollback_strategy: 'blue-green' } },
  { target: { namespace: 'prod', name: 'web-blue' }, strategy: 'deployment-undo', labels: { deployment: 'web-blue' } },
];

interface Model {
  clock: ManualClock;
  cluster: ModelCluster;
  /** Running rollbacks the executor port was handed, by id. */
  running: Map<string, RollbackRecord>;
  /** When each target's last rollback ended (model time). */
  ended: Map<string, number>;
  /** Revisions rolled away from, per target (quarantined). */
  bad: Map<string, Set<string>>;
  violations: string[];
  fingerprints: number;
}

type Real = ModelReplica;

function boot(model: Model, dir: string): Real {
  return modelReplica({ config: config(dir), dir, clock: model.clock, cluster: model.cluster, onAdmitted: (rollback) => admitted(model, rollback) });
}

/** Every admission, checked against the invariants at the moment the executor is handed it. */
function admitted(model: Model, rollback: RollbackRecord): void {
  const now = model.clock.now();
  const key = targetKey(rollback);
  for (const other of model.running.values()) {
    const shared = other.objects.filter((o) => rollback.objects.includes(o));
    if (shared.length) model.violations.push(`${rollback.id} (${key}) admitted while ${other.id} (${targetKey(other)}) holds ${shared.join(', ')}`);
  }
  if (rollback.kind === 'automatic') {
    const ended = model.ended.get(key);
    if (ended !== undefined && now < ended + COOLDOWN_MS) model.violations.push(`${rollback.id} (${key}) admitted at ${now} inside the cooldown after ${ended}`);
    if (rollback.pin && model.bad.get(key)?.has(rollback.pin.to.id)) model.violations.push(`${rollback.id} (${key}) goes to quarantined ${rollback.pin.to.id}`);
  }
  if (rollback.pin) {
    const bad = model.bad.get(key) ?? new Set<string>();
    bad.add(rollback.pin.from.id);
    bad.delete(rollback.pin.to.id);
    model.bad.set(key, bad);
  }
  model.running.set(rollback.id, rollback);
}

const targetArb = fc.integer({ min: 0, max: TARGETS.length - 1 });

function alertFor(model: Model, t: number, trigger: string, resolved: boolean, fingerprint: number) {
  const a = alert({
    labels: { namespace: 'prod', rollback_trigger: trigger, ...TARGETS[t]!.labels },
    fingerprint: fingerprint.toString(16).padStart(16, '0'),
    startsAt: new Date(model.clock.now() - 1000).toISOString(),
    status: resolved ? 'resolved' : 'firing',
  });
  const parsed = parsePayload(payload([a]));
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.payload;
}

type Cmd = fc.AsyncCommand<Model, Real>;

const cmd = (name: string, run: (m: Model, r: Real) => Promise<void>): Cmd => ({
  check: () => true,
  run,
  toString: () => name,
});

const alertStep = (t: number, trigger: string, resend: boolean, resolved: boolean): Cmd =>
  cmd(`alert(${TARGETS[t]!.target.name}, ${trigger}${resend ? ', re-sent' : ''}${resolved ? ', resolved' : ''})`, async (m, r) => {
    const fp = resend ? Math.max(1, m.fingerprints) : ++m.fingerprints;
    await r.dispatcher.submit(alertFor(m, t, trigger, resolved, fp));
  });
const alertCmd = fc.tuple(targetArb, fc.constantFrom('error_rate', 'response_time'), fc.boolean(), fc.boolean()).map((a) => alertStep(...a));

const kindArb = fc.constantFrom<RollbackKind>('manual', 'automatic', 'emergency');
const operatorStep = (t: number, kind: RollbackKind): Cmd =>
  cmd(`operator(${TARGETS[t]!.target.name}, ${kind})`, async (_m, r) => {
    const { target, strategy } = TARGETS[t]!;
    await r.dispatcher.submitOperator({ target, strategy, kind, reason: 'model', explicit: {} });
  });
const operatorCmd = fc.tuple(targetArb, kindArb).map((a) => operatorStep(...a));

/** Several requests in one turn of the event loop, all racing for admission. */
const burstCmd = fc.array(fc.oneof(fc.tuple(fc.constant('alert' as const), targetArb), fc.tuple(kindArb, targetArb)), { minLength: 2, maxLength: 5 }).map((items) =>
  cmd(`burst(${items.map(([what, t]) => `${what}:${TARGETS[t]!.target.name}`).join(' ')})`, async (m, r) => {
    await Promise.all(
      items.map(([what, t]) =>
        what === 'alert'
          ? r.dispatcher.submit(alertFor(m, t, 'error_rate', false, ++m.fingerprints))
          : r.dispatcher.submitOperator({ target: TARGETS[t]!.target, strategy: TARGETS[t]!.strategy, kind: what, reason: 'burst', explicit: {} }),
      ),
    );
  }),
);

const finishStep = (pick: number, success: boolean): Cmd =>
  cmd(`finish(#${pick}, ${success ? 'success' : 'failed'})`, async (m, r) => {
    const all = [...m.running.values()];
    if (all.length === 0) return;
    const rollback = all[pick % all.length]!;
    const now = m.clock.now();
    await r.dispatcher.record([{ type: 'rollback-finished', id: rollback.id, target: rollback, status: success ? 'success' : 'failed', at: now, steps: [] }]);
    m.running.delete(rollback.id);
    m.ended.set(targetKey(rollback), now);
    if (success) m.cluster.rolledBack(rollback, now);
  });
const finishCmd = fc.tuple(fc.nat(), fc.boolean()).map((a) => finishStep(...a));

const deployStep = (t: number): Cmd =>
  cmd(`deploy(${TARGETS[t]!.target.name})`, async (m) => {
    m.cluster.deploy(TARGETS[t]!.target, m.clock.now());
  });
const deployCmd = targetArb.map(deployStep);

const clockStep = (ms: number): Cmd =>
  cmd(`clock(${ms > 0 ? '+' : ''}${ms}ms)`, async (m, r) => {
    m.clock.advance(ms);
    await r.dispatcher.redecideDue();
  });
const clockCmd = fc.integer({ min: -120_000, max: 180_000 }).map(clockStep);

const restartCmd = fc.constant(
  cmd('restart', async (m, r) => {
    await r.dispatcher.drain();
    r.close();
    Object.assign(r, boot(m, r.dir));
  }),
);

describe('admission state machine (model-based, fast-check)', () => {
  async function scenario(steps: Cmd[]): Promise<Model> {
    const dir = mkdtempSync(join(tmpdir(), 'rr-model-'));
    const model: Model = { clock: new ManualClock(T0), cluster: new ModelCluster(TARGETS.map((t) => t.target), T0), running: new Map(), ended: new Map(), bad: new Map(), violations: [], fingerprints: 0 };
    const real = boot(model, dir);
    try {
      for (const step of steps) await step.run(model, real);
      return model;
    } finally {
      real.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('a rollback that failed leaves its target on the quarantined revision: after a deploy, the next rollback skips it', async () => {
    const model = await scenario([operatorStep(0, 'manual'), finishStep(0, false), deployStep(0), clockStep(120_000), alertStep(0, 'error_rate', false, false)]);
    expect(model.violations).toEqual([]);
    expect(model.running.size).toBe(1);
  });

  it('never two concurrent rollbacks of one object, never an automatic one inside cooldown or to a quarantined revision', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.commands([alertCmd, alertCmd, operatorCmd, burstCmd, finishCmd, finishCmd, deployCmd, deployCmd, clockCmd, clockCmd, restartCmd], { maxCommands: 50 }),
        async (cmds) => {
          const dir = mkdtempSync(join(tmpdir(), 'rr-model-'));
          const clock = new ManualClock(T0);
          const model: Model = { clock, cluster: new ModelCluster(TARGETS.map((t) => t.target), T0), running: new Map(), ended: new Map(), bad: new Map(), violations: [], fingerprints: 0 };
          const real = boot(model, dir);
          try {
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            expect(model.violations).toEqual([]);
            // The ledger agrees with the model about what runs.
            expect(real.state.running().map((r) => r.id).sort()).toEqual([...model.running.keys()].sort());
          } finally {
            real.close();
            rmSync(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);
});
