/**
 * One contract, both state backends (SPEC §4 `state.backend`): the same tests run against
 * `sqlite` (one replica, its file) and `kubernetes` (replicas sharing the state through
 * ConfigMaps and Leases in the real apiserver, each with its own local file). The cluster
 * of workloads is a model (test/support/model-cluster.ts); what is under test is how the
 * guards' state is kept and shared: one admission per target, cooldown from the end of a
 * rollback, quarantine and its clearing, freeze, the brake tripping once, an escalation
 * once per revision, and all of it across a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../src/kube/client.js';
import { ManualClock, type Clock } from '../../src/clock.js';
import { parsePayload } from '../../src/intake/parse.js';
import type { ParsedPayload } from '../../src/intake/payload.js';
import type { Target } from '../../src/model.js';
import { KubernetesLedger } from '../../src/store/kubernetes/kubernetes-ledger.js';
import { LeaseLocks } from '../../src/store/kubernetes/leases.js';
import type { RollbackRecord } from '../../src/store/records.js';
import { alert, payload } from '../support/alerts.js';
import { ModelCluster, modelReplica, type ModelReplica } from '../support/model-cluster.js';
import { T0, testConfig } from '../support/service.js';
import { connectCluster } from './connect.js';

const cluster = connectCluster();
const API: Target = { namespace: 'prod', name: 'api' };
const WEB: Target = { namespace: 'prod', name: 'web' };
const YAML = 'rollback:\n  cooldownPeriod: 60s\n  brake: { max: 2, window: 15m }\n';

interface Backend {
  name: string;
  /** A replica (the same one again for sqlite: it has exactly one). */
  replica(): Promise<ModelReplica>;
  /** Closes every replica and starts them afresh from what they kept. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

interface World {
  clock: ManualClock;
  cluster: ModelCluster;
  admitted: RollbackRecord[];
}

function sqlite(world: World): Backend {
  const dir = mkdtempSync(join(tmpdir(), 'rr-contract-'));
  const config = testConfig(YAML, { ROLLBACK_DRY_RUN: 'false' }, dir);
  let one: ModelReplica | undefined;
  const boot = () => modelReplica({ config, dir, clock: world.clock, cluster: world.cluster, onAdmitted: (r) => void world.admitted.push(r) });
  return {
    name: 'sqlite',
    replica: async () => (one ??= boot()),
    restart: async () => {
      one?.close();
      one = boot();
    },
    dispose: async () => {
      one?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function kubernetes(world: World, namespace: string): Backend {
  const replicas: { dir: string; replica: ModelReplica }[] = [];
  const kube = new KubeClient(cluster.kubeConfig());
  const boot = (dir: string, n: number) => {
    const config = testConfig(`${YAML}state:\n  backend: kubernetes\n  namespace: ${namespace}\n`, { ROLLBACK_DRY_RUN: 'false' }, dir);
    return modelReplica({
      config,
      dir,
      clock: world.clock,
      cluster: world.cluster,
      onAdmitted: (r) => void world.admitted.push(r),
      shared: (state) =>
        new KubernetesLedger({
          kube,
          namespace,
          // Leases are checked against the wall clock: the model clock is for the guards.
          locks: new LeaseLocks(kube, namespace, `replica-${n}`, 15_000, realClock),
          state,
          clock: world.clock,
          horizonMs: 24 * 3600_000,
          brake: config.rollback.brake,
        }),
    });
  };
  return {
    name: 'kubernetes',
    replica: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rr-contract-k8s-'));
      const replica = boot(dir, replicas.length);
      replicas.push({ dir, replica });
      return replica;
    },
    restart: async () => {
      for (const [i, r] of replicas.entries()) {
        r.replica.close();
        r.replica = boot(r.dir, i);
      }
    },
    dispose: async () => {
      for (const r of replicas) {
        r.replica.close();
        rmSync(r.dir, { recursive: true, force: true });
      }
    },
  };
}

const realClock: Clock = { now: () => Date.now() };

/** A firing alert that starts now (model time): after any deploy the test made, so never stale. */
function firing(world: World, target: Target, fingerprint: string, trigger = 'error_rate'): ParsedPayload {
  const startsAt = new Date(world.clock.now()).toISOString();
  const parsed = parsePayload(payload([alert({ labels: { namespace: target.namespace, deployment: target.name, rollback_trigger: trigger }, fingerprint, startsAt })]));
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.payload;
}

async function decide(r: ModelReplica, p: ParsedPayload): Promise<string> {
  const [d] = await r.dispatcher.submit(p);
  return d!.record.decision;
}

async function finish(r: ModelReplica, world: World, rollback: RollbackRecord): Promise<void> {
  await r.dispatcher.record([{ type: 'rollback-finished', id: rollback.id, target: rollback, status: 'success', at: world.clock.now(), steps: [] }]);
  world.cluster.rolledBack(rollback, world.clock.now());
}

describe.each(['sqlite', 'kubernetes'])('the %s state backend', (kind) => {
  let world: World;
  let backend: Backend;
  beforeEach(async () => {
    world = { clock: new ManualClock(T0), cluster: new ModelCluster([API, WEB], T0), admitted: [] };
    backend = kind === 'sqlite' ? sqlite(world) : kubernetes(world, await cluster.ns('contract'));
  });
  afterEach(() => backend.dispose());

  it('admits one rollback per target, however many replicas are asked at once', async () => {
    const [a, b] = [await backend.replica(), await backend.replica()];
    const decisions = await Promise.all([decide(a, firing(world, API, '00000000000000a1')), decide(b, firing(world, API, '00000000000000b1')), decide(a, firing(world, API, '00000000000000a2'))]);
    expect(decisions.filter((d) => d === 'executed')).toHaveLength(1);
    expect(decisions.filter((d) => d !== 'executed').every((d) => d === 'in_progress')).toBe(true);
    expect(world.admitted).toHaveLength(1);
  });

  it('counts the cooldown from the end of a rollback, also after a restart', async () => {
    const a = await backend.replica();
    expect(await decide(a, firing(world, API, '00000000000000c1'))).toBe('executed');
    world.clock.advance(600_000); // a long verification
    await finish(a, world, world.admitted[0]!);
    world.clock.advance(59_000);
    await backend.restart();
    const b = await backend.replica();
    expect(await decide(b, firing(world, API, '00000000000000c2'))).toBe('cooldown');
    world.clock.advance(1_000);
    world.cluster.deploy(API, world.clock.now() - 500); // a new release that breaks too
    expect(await decide(b, firing(world, API, '00000000000000c3'))).toBe('executed');
  });

  it('keeps quarantines and known-good revisions, also after a restart, until an operator clears one', async () => {
    const a = await backend.replica();
    await decide(a, firing(world, API, '00000000000000d1'));
    const first = world.admitted[0]!;
    await finish(a, world, first);
    await backend.restart();
    const b = await backend.replica();
    const marks = await b.revisions(API);
    expect(marks.get(first.pin!.from.id)?.status).toBe('bad');
    expect(marks.get(first.pin!.to.id)?.status).toBe('installed');
    // An alert about what the receiver installed escalates (once) instead of rolling further back.
    world.clock.advance(120_000);
    expect(await decide(b, firing(world, API, '00000000000000d2'))).toBe('refused');
    const [again] = await b.dispatcher.submit(firing(world, API, '00000000000000d3'));
    expect(again!.record.decision).toBe('refused');
    expect(again!.escalation).toBeUndefined();
    await b.dispatcher.record([{ type: 'quarantine-clear', target: API, revisionId: first.pin!.from.id, at: world.clock.now() }]);
    await backend.restart();
    const c = await backend.replica();
    expect((await c.revisions(API)).get(first.pin!.from.id)).toBeUndefined();
  });

  it('holds the freeze and trips the brake once, across replicas and a restart', async () => {
    const [a, b] = [await backend.replica(), await backend.replica()];
    await a.dispatcher.record([{ type: 'freeze', freeze: { since: world.clock.now(), reason: 'release train' } }]);
    await b.dispatcher.submit(firing(world, WEB, '00000000000000e0')); // refreshes b
    expect(await decide(b, firing(world, WEB, '00000000000000e1'))).toBe('frozen');
    await b.dispatcher.record([{ type: 'freeze', freeze: null }]);
    // brake.max 2: two targets roll back, the third admission trips the brake exactly once.
    expect(await decide(a, firing(world, API, '00000000000000f1'))).toBe('executed');
    expect(await decide(b, firing(world, WEB, '00000000000000f2'))).toBe('executed');
    const tripped = await Promise.all([a.dispatcher.submit(firing(world, API, '00000000000000f3', 'health_check')), b.dispatcher.submit(firing(world, WEB, '00000000000000f4', 'health_check'))]);
    const decisions = tripped.map(([d]) => d!);
    expect(decisions.map((d) => d.record.decision).sort()).toEqual(['in_progress', 'in_progress']);
    await finish(a, world, world.admitted[0]!);
    await finish(b, world, world.admitted[1]!);
    world.clock.advance(61_000);
    world.cluster.deploy(API, world.clock.now() - 500);
    world.cluster.deploy(WEB, world.clock.now() - 500);
    const both = await Promise.all([a.dispatcher.submit(firing(world, API, '00000000000000f5')), b.dispatcher.submit(firing(world, WEB, '00000000000000f6'))]);
    const brake = both.map(([d]) => d!);
    expect(brake.map((d) => d.record.decision)).toEqual(['rate_limited', 'rate_limited']);
    expect(brake.filter((d) => d.brakeTripped)).toHaveLength(1);
    await backend.restart();
    const c = await backend.replica();
    expect(await decide(c, firing(world, WEB, '00000000000000f7', 'cpu'))).toBe('rate_limited');
  });
});
