/**
 * A model of the cluster for admission tests: per target, the revision serving and the
 * older ones, changed by deploys and successful rollbacks; and a dispatcher wired to it
 * through the executor port (cluster facts from the model, admitted rollbacks handed to
 * a callback), on a real SQLite store, with an optional shared ledger (replicas).
 */
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config/load.js';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import type { ClusterRead, Executor } from '../../src/execution/executor.js';
import type { WorkloadFacts } from '../../src/guards/guard.js';
import { createLogger } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { targetKey, type Revision, type Target } from '../../src/model.js';
import { Notifications } from '../../src/notify/notifier.js';
import type { RevisionMark, RollbackRecord } from '../../src/store/records.js';
import type { SharedLedger } from '../../src/store/shared-ledger.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { StateIndex } from '../../src/store/state-index.js';

export class ModelCluster {
  private next = 0;
  readonly serving = new Map<string, { current: Revision; older: Revision[]; changedAt: number }>();

  constructor(targets: readonly Target[], now: number) {
    for (const target of targets) {
      const older = [this.revision(), this.revision()];
      this.serving.set(targetKey(target), { current: this.revision(), older, changedAt: now - 3600_000 });
    }
  }

  revision(): Revision {
    const n = ++this.next;
    const id = n.toString(16).padStart(12, '0');
    return { id, number: n, label: `revision ${n}`, images: [`app:${n}`] };
  }

  deploy(target: Target, now: number): void {
    const s = this.serving.get(targetKey(target))!;
    this.serving.set(targetKey(target), { current: this.revision(), older: [s.current, ...s.older], changedAt: now });
  }

  rolledBack(rollback: RollbackRecord, now: number): void {
    const s = this.serving.get(targetKey(rollback))!;
    if (!rollback.pin || s.current.id !== rollback.pin.from.id) return;
    this.serving.set(targetKey(rollback), { current: rollback.pin.to, older: [s.current, ...s.older.filter((r) => r.id !== rollback.pin!.to.id)], changedAt: now });
  }

  facts(target: Target): WorkloadFacts {
    const s = this.serving.get(targetKey(target))!;
    return { optInObject: targetKey(target), optedIn: true, revisionAt: s.changedAt, current: s.current, candidates: s.older, replicas: 2 };
  }
}

export interface ModelReplica {
  dir: string;
  store: SqliteStore;
  state: StateIndex;
  dispatcher: Dispatcher;
  /** The target's revisions as this replica sees them, after reading the shared state (as the API does). */
  revisions(target: Target): Promise<ReadonlyMap<string, RevisionMark>>;
  close(): void;
}

/**
 * A dispatcher on the SQLite store in `dir` (restored from it), reading the model cluster;
 * `shared` builds the shared ledger over its state index (the Kubernetes backend).
 */
export function modelReplica(opts: {
  config: Config;
  dir: string;
  clock: Clock;
  cluster: ModelCluster;
  onAdmitted: (rollback: RollbackRecord) => void;
  shared?: (state: StateIndex) => SharedLedger;
}): ModelReplica {
  const { config, dir, clock } = opts;
  const store = new SqliteStore(dir);
  const now = clock.now();
  const state = StateIndex.restore(store.restore(now - config.retentionMs, now - 24 * 3600_000));
  const log = createLogger('silent');
  const metrics = new Metrics({ triggers: config.rollback.triggers.map((t) => t.name), defaultMetrics: false });
  const port = {
    view: async (candidates: { target: Target }[]): Promise<ClusterRead> => {
      const read = new Set(candidates.map((c) => targetKey(c.target)));
      return {
        facts: (target) => opts.cluster.facts(target),
        skipped: (target) => (read.has(targetKey(target)) ? undefined : 'not read'),
        plan: () => [],
        snapshot: () => ({}),
      };
    },
    execute: async (rollback: RollbackRecord) => opts.onAdmitted(rollback),
    recordPlan: async () => undefined,
  } as unknown as Executor;
  const shared = opts.shared?.(state) ?? null;
  const dispatcher = new Dispatcher({ config, store, state, clock, metrics, log, notifications: new Notifications([], metrics, log), executor: port, shared });
  dispatcher.start();
  return {
    dir,
    store,
    state,
    dispatcher,
    revisions: async (target) => {
      await shared?.refresh([target]);
      return state.revisions(target);
    },
    close: () => {
      dispatcher.stop();
      store.close();
    },
  };
}
