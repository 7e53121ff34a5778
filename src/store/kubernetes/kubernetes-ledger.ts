/**
 * The ledger shared between replicas through the Kubernetes API (SPEC §4 `state.backend:
 * kubernetes`): one ConfigMap per target holding its ledger (attempts, the running
 * rollback whole, bad/installed/known-good revisions, escalations, reset, the last
 * success), one global ConfigMap (freeze, brake), and a Lease per object a running rollback touches. Every
 * write is a compare-and-swap on the resourceVersion the decision was made on; a replica
 * that loses a race is told `conflict` and decides again on a fresh read.
 *
 * Publishing a rollback's start takes its Leases first, then reserves its place under the
 * brake (global), then writes the target: a failure after the global write leaves the
 * brake counting one rollback too many, never one too few.
 */
import pLimit from 'p-limit';
import type { Clock } from '../../clock.js';
import { ClusterUnavailableError } from '../../execution/executor.js';
import { KubeApiError, type KubeClient } from '../../kube/client.js';
import { paths } from '../../kube/paths.js';
import { targetKey, type Target } from '../../model.js';
import {
  cloneGlobal,
  cloneTarget,
  emptyGlobal,
  emptyTarget,
  isGlobal,
  pruneGlobal,
  pruneTarget,
  reduceGlobal,
  reduceTarget,
  targetOf,
  type GlobalLedger,
  type TargetLedger,
} from '../ledger.js';
import type { Effect, RollbackRecord } from '../records.js';
import type { SharedLedger } from '../shared-ledger.js';
import type { StateIndex } from '../state-index.js';
import type { LeaseLocks } from './leases.js';
import { GLOBAL_STATE_NAME, KIND_LABEL, LEDGER_KEY, MANAGED_BY, TARGET_ANNOTATION, targetStateName } from './names.js';

interface ConfigMap {
  metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

/** What was read of one state object: its ledger and the resourceVersion to write against (absent: create). */
interface Stored<T> {
  value: T;
  resourceVersion?: string;
}

export interface KubernetesLedgerDeps {
  kube: KubeClient;
  namespace: string;
  locks: LeaseLocks;
  state: StateIndex;
  clock: Clock;
  /** How far back attempts matter to the guards; older ones are pruned from the objects. */
  horizonMs: number;
  /** The global brake, to re-check a merged count against. */
  brake: { max: number; windowMs: number };
  /** Called once a target's state changed (the summary annotation on the workload). */
  onTargetChanged?: (ledger: TargetLedger) => void;
}

const READ_CONCURRENCY = 8;
/** Times a lost race for the global object is merged before the decision is made again. */
const GLOBAL_MERGES = 5;

/** Whether admissions decided on `decidedOn` are still admissible on `fresh`: the freeze and the brake unchanged, room left. */
function stillHolds(decidedOn: GlobalLedger, fresh: GlobalLedger, effects: readonly Effect[], brake: { max: number; windowMs: number }, now: number): boolean {
  if (JSON.stringify(fresh.freeze) !== JSON.stringify(decidedOn.freeze) || fresh.brakeTrippedAt !== decidedOn.brakeTrippedAt) return false;
  if (effects.some((e) => e.type !== 'rollback')) return false;
  const recent = fresh.automaticStarts.filter((at) => at > now - brake.windowMs).length;
  return recent + effects.length <= brake.max;
}

/** The API server refused a state request: nothing can be decided until the cluster is fixed (503). */
function refused(what: string, err: KubeApiError): ClusterUnavailableError {
  const hint = err.status === 403 ? " (check the state backend's RBAC rules, src/kube/rbac-rules-state.yaml)" : '';
  return new ClusterUnavailableError(`cannot ${what}${hint}: ${err.message}`);
}

export class KubernetesLedger implements SharedLedger {
  private readonly targets = new Map<string, Stored<TargetLedger>>();
  private global: Stored<GlobalLedger> = { value: emptyGlobal() };

  constructor(private readonly deps: KubernetesLedgerDeps) {}

  private deadline(): number {
    return this.deps.clock.now() + 5000;
  }

  /**
   * GETs a state object; a 404 is passed on (the caller's "absent"). Any other refusal
   * (e.g. 403: the Role lacks a verb) is the cluster's problem, not the alert's: 503, so
   * Alertmanager retries instead of dropping the alert on a 4xx.
   */
  private async read<T>(path: string, what: string): Promise<T> {
    try {
      return await this.deps.kube.request<T>({ method: 'GET', path }, { deadline: this.deadline() });
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) throw err;
      if (err instanceof KubeApiError && !err.transient) throw refused(`read ${what}`, err);
      throw new ClusterUnavailableError(`the Kubernetes API did not answer (state.backend kubernetes): ${(err as Error).message}`);
    }
  }

  private async readMap<T>(name: string, empty: () => T): Promise<Stored<T>> {
    try {
      const cm = await this.read<ConfigMap>(paths.configMap(this.deps.namespace, name), `the state ConfigMap ${this.deps.namespace}/${name}`);
      const text = cm.data?.[LEDGER_KEY];
      return { value: text ? (JSON.parse(text) as T) : empty(), resourceVersion: cm.metadata.resourceVersion };
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return { value: empty() };
      throw err;
    }
  }

  async refresh(targets: readonly Target[]): Promise<void> {
    const unique = [...new Map(targets.map((t) => [targetKey(t), t])).values()];
    const limit = pLimit(READ_CONCURRENCY);
    const [global, leases, ...read] = await Promise.all([
      this.readMap(GLOBAL_STATE_NAME, emptyGlobal),
      this.deps.locks.list().catch((err: Error) => {
        const hint = err instanceof KubeApiError && !err.transient ? ' (check the state backend\'s RBAC rules)' : '';
        throw new ClusterUnavailableError(`the Kubernetes API did not answer (state.backend kubernetes): cannot list the Leases${hint}: ${err.message}`);
      }),
      ...unique.map((t) => limit(() => this.readMap(targetStateName(targetKey(t)), () => emptyTarget(t)))),
    ]);
    this.global = global;
    unique.forEach((t, i) => this.targets.set(targetKey(t), read[i]!));
    const mine = this.deps.locks.identity;
    const heldElsewhere = leases
      .filter((l) => l.holder !== mine)
      .map((l) => {
        const [namespace = '', name = ''] = l.target.split('/');
        return { id: l.rollbackId, target: { namespace, name }, objects: [l.object], startedAt: l.renewedAt };
      });
    this.deps.state.load({ targets: read.map((r) => r.value), global: global.value, heldElsewhere });
  }

  async refreshAll(): Promise<void> {
    const list = await this.read<{ items: ConfigMap[] }>(paths.configMaps(this.deps.namespace, `${KIND_LABEL}=target`), `the state ConfigMaps in ${this.deps.namespace}`);
    const targets = list.items.flatMap((cm) => {
      const key = cm.metadata.annotations?.[TARGET_ANNOTATION];
      if (!key) return [];
      const slash = key.indexOf('/');
      return [{ namespace: key.slice(0, slash), name: key.slice(slash + 1) }];
    });
    await this.refresh(targets);
  }

  async publish(effects: readonly Effect[]): Promise<'ok' | 'conflict'> {
    const taken: RollbackRecord[] = [];
    try {
      return await this.publishTaking(effects, taken);
    } catch (err) {
      // Refused (e.g. 403: the Role lacks a verb): nothing was published, so the Leases
      // taken for it must not hold the objects until they expire. If even the release
      // fails they do expire (leaseDuration); the refusal is what the caller reports.
      await this.releaseAll(taken).catch(() => undefined);
      throw err;
    }
  }

  /** Publishes, recording in `taken` the rollbacks whose Leases it holds until the end. */
  private async publishTaking(effects: readonly Effect[], taken: RollbackRecord[]): Promise<'ok' | 'conflict'> {
    const now = this.deps.clock.now();
    const started = effects.flatMap((e) => (e.type === 'rollback' && e.record.status === 'running' ? [e.record] : []));
    for (const r of started) {
      if (!(await this.deps.locks.acquire(r.objects, r.id, r))) {
        await this.releaseAll(taken);
        return 'conflict';
      }
      taken.push(r);
    }
    const globalEffects = effects.filter(isGlobal);
    if (globalEffects.length > 0 && !(await this.publishGlobal(globalEffects, now))) {
      await this.releaseAll(taken);
      return 'conflict';
    }
    const byTarget = new Map<string, { target: Target; effects: Effect[] }>();
    for (const e of effects) {
      const t = targetOf(e);
      if (!t) continue;
      const key = targetKey(t);
      if (!byTarget.has(key)) byTarget.set(key, { target: { namespace: t.namespace, name: t.name }, effects: [] });
      byTarget.get(key)!.effects.push(e);
    }
    const finished: RollbackRecord[] = [];
    for (const [key, { target, effects: own }] of [...byTarget].sort(([a], [b]) => a.localeCompare(b))) {
      const stored = this.targets.get(key) ?? { value: emptyTarget(target) };
      const next = cloneTarget(stored.value);
      for (const e of own) {
        if (e.type === 'rollback-finished' && next.running?.id === e.id) finished.push(next.running);
        reduceTarget(next, e);
      }
      pruneTarget(next, now - this.deps.horizonMs);
      const written = await this.write(targetStateName(key), 'target', key, next, stored.resourceVersion);
      if (!written) {
        await this.releaseAll(taken);
        return 'conflict';
      }
      this.targets.set(key, { value: next, resourceVersion: written });
      this.deps.onTargetChanged?.(next);
    }
    // Finished and on record: its objects are free for the next rollback.
    await this.releaseAll(finished);
    return 'ok';
  }

  /**
   * Every admission counts toward the brake in the one global object, so replicas race for
   * it all the time. Counting is commutative: on a lost race the fresh object is read and,
   * if the decision still holds on it (same freeze, same brake, still room under
   * brake.max), the same starts are added to it; otherwise the caller decides again.
   */
  private async publishGlobal(effects: readonly Effect[], now: number): Promise<boolean> {
    const decidedOn = this.global.value;
    for (let attempt = 0; attempt < GLOBAL_MERGES; attempt++) {
      const base = this.global.value;
      if (attempt > 0 && !stillHolds(decidedOn, base, effects, this.deps.brake, now)) return false;
      const next = cloneGlobal(base);
      for (const e of effects) reduceGlobal(next, e);
      pruneGlobal(next, now - this.deps.horizonMs);
      const written = await this.write(GLOBAL_STATE_NAME, 'global', undefined, next, this.global.resourceVersion);
      if (written) {
        this.global = { value: next, resourceVersion: written };
        return true;
      }
      this.global = await this.readMap(GLOBAL_STATE_NAME, emptyGlobal);
    }
    return false;
  }

  private async releaseAll(rollbacks: readonly RollbackRecord[]): Promise<void> {
    for (const r of rollbacks) await this.deps.locks.release(r.objects, r.id);
  }

  /** Creates or compare-and-swaps a state ConfigMap; the new resourceVersion, or undefined on a lost race. */
  private async write(name: string, kind: 'global' | 'target', key: string | undefined, value: unknown, resourceVersion: string | undefined): Promise<string | undefined> {
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        ...(resourceVersion ? { resourceVersion } : {}),
        labels: { ...MANAGED_BY, [KIND_LABEL]: kind },
        ...(key ? { annotations: { [TARGET_ANNOTATION]: key } } : {}),
      },
      data: { [LEDGER_KEY]: JSON.stringify(value) },
    };
    try {
      const written = resourceVersion
        ? await this.deps.kube.send<ConfigMap>({ method: 'PUT', path: paths.configMap(this.deps.namespace, name), body })
        : await this.deps.kube.send<ConfigMap>({ method: 'POST', path: paths.configMaps(this.deps.namespace), body });
      return written.metadata.resourceVersion;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return undefined;
      if (err instanceof KubeApiError && !err.ambiguous) throw refused(`write the state ConfigMap ${this.deps.namespace}/${name}`, err);
      // Unanswered: it may have been written. The next refresh tells; until then decide again.
      return undefined;
    }
  }

  /** The stored ledger of a target as last read or written (takeover reads the running rollback from it). */
  async fresh(target: Target): Promise<TargetLedger> {
    await this.refresh([target]);
    return this.targets.get(targetKey(target))!.value;
  }
}
