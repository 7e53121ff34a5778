/**
 * Assembles the Kubernetes state backend (SPEC §4 `state.backend: kubernetes`): the
 * receiver's namespace, this replica's identity, the Leases, the shared ledger, the
 * summary annotations, and the takeover of rollbacks whose replica died.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/load.js';
import type { KubeClient } from '../../kube/client.js';
import type { RollbackRecord } from '../records.js';
import type { StateIndex } from '../state-index.js';
import { KubernetesLedger } from './kubernetes-ledger.js';
import { LeaseLocks } from './leases.js';
import { ownNamespace } from './namespace.js';
import { writeSummary } from './summary.js';
import { LeaseKeeper, Takeover } from './takeover.js';
import { KubernetesWindows } from './windows.js';
import type { SharedWindow } from '../../monitoring/window-share.js';

export interface KubernetesBackend {
  namespace: string;
  identity: string;
  ledger: KubernetesLedger;
  keeper: LeaseKeeper;
  windows: KubernetesWindows;
  /** Starts scanning for rollbacks and windows to take over: `resume` records a rollback locally and resumes it, `adoptWindow` samples on. */
  startTakeover(resume: (rollback: RollbackRecord) => void, adoptWindow: ((shared: SharedWindow) => Promise<void>) | null): Takeover;
  describe(): string;
}

export function kubernetesBackend(deps: {
  kube: KubeClient;
  config: Config;
  state: StateIndex;
  clock: Clock;
  log: Logger;
  env: Record<string, string | undefined>;
  horizonMs: number;
}): KubernetesBackend {
  const { kube, config, clock, log } = deps;
  const { namespace, from } = ownNamespace(config.state.namespace, deps.env);
  const pod = deps.env.POD_NAME || undefined;
  // A restarted container is a new holder: it adopts its predecessor's Leases by pod name.
  const identity = `${pod ?? hostname()}_${randomBytes(3).toString('hex')}`;
  const durationMs = config.state.leaseDurationMs;
  const locks = new LeaseLocks(kube, namespace, identity, durationMs, clock);
  const ledger = new KubernetesLedger({
    kube,
    namespace,
    locks,
    state: deps.state,
    clock,
    horizonMs: deps.horizonMs,
    brake: config.rollback.brake,
    onTargetChanged: (l) => void writeSummary(kube, l, config.rollback.cooldownMs, clock, log),
  });
  const keeper = new LeaseKeeper(locks, durationMs, log);
  const windows = new KubernetesWindows(kube, namespace, locks, keeper, clock);
  return {
    namespace,
    identity,
    ledger,
    keeper,
    windows,
    startTakeover(resume, adoptWindow) {
      const takeover = new Takeover({
        locks,
        ledger,
        keeper,
        log,
        pod,
        intervalMs: Math.max(1000, Math.floor(durationMs / 3)),
        resume,
        windows: adoptWindow ? { read: (id) => windows.read(id), adopt: adoptWindow } : undefined,
      });
      takeover.start();
      return takeover;
    },
    describe: () => `state: kubernetes backend in namespace ${namespace} (from ${from}), replica ${identity}, Leases of ${durationMs / 1000}s`,
  };
}
