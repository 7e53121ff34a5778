/** GET /api/v1/status: mode, freeze, brake, store, cluster, versions — what an SRE asks first. */
import { Router } from 'express';
import { requireReader } from '../http/auth.js';
import { formatMatcher } from '../matching/matchers.js';
import type { Trigger } from '../config/triggers.js';
import type { ApiDeps } from './deps.js';

/** A trigger as the status and `check-config --output json` show it. */
export function triggerView(t: Trigger) {
  return {
    name: t.name,
    matchers: t.matchers.map(formatMatcher),
    strategy: t.strategy ?? null,
    actAfterSeconds: t.actAfterMs / 1000,
    automatic: t.automatic,
    threshold: t.threshold ?? null,
  };
}

/** The status as `GET /api/v1/status` answers it; the status page shows the same. */
export function statusView(deps: ApiDeps) {
  const now = deps.clock.now();
  const { brake } = deps.config.rollback;
  const tripped = deps.state.brakeTrippedAt();
  const holding = tripped !== undefined && now < tripped + brake.windowMs;
  const freeze = deps.state.freeze();
  let store: { path: string; ok: boolean; error?: string };
  try {
    deps.store.ping();
    store = { path: deps.store.path, ok: true };
  } catch (err) {
    store = { path: deps.store.path, ok: false, error: (err as Error).message };
  }
  return {
    mode: deps.config.dryRun ? 'dry-run' : 'live',
    replica: deps.replica,
    stateBackend: deps.config.state.backend,
    draining: deps.draining(),
    freeze: freeze ? { frozen: true, since: new Date(freeze.since).toISOString(), reason: freeze.reason } : { frozen: false },
    brake: {
      max: brake.max,
      windowSeconds: brake.windowMs / 1000,
      recentRollbacks: deps.state.rollbacksSince(now - brake.windowMs),
      tripped: holding,
      holdsUntil: holding ? new Date(tripped + brake.windowMs).toISOString() : null,
    },
    pendingIntents: deps.state.pendingIntents().length,
    store,
    cluster: deps.kubeServer
      ? { configured: true, server: deps.kubeServer }
      : { configured: false, reason: 'no KUBECONFIG or in-cluster service account: opt-in, stale and validation checks are skipped' },
    triggers: deps.config.rollback.triggers.map(triggerView),
    config: deps.config.file,
    versions: { rollbackReceiver: deps.version, node: process.version },
    startedAt: new Date(deps.startedAt).toISOString(),
  };
}

export function statusRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/v1/status', requireReader(deps.credentials), (_req, res) => {
    res.json(statusView(deps));
  });
  return router;
}
