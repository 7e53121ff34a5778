/** GET /metrics: prom-client exposition; the cooldown gauge is computed at scrape time. */
import { Router } from 'express';
import { activeCooldowns } from './cooldown-view.js';
import type { ApiDeps } from './deps.js';

export function metricsRouter(deps: Pick<ApiDeps, 'metrics' | 'state' | 'config' | 'clock'>): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    const gauge = deps.metrics.cooldownActive;
    gauge.reset();
    for (const c of activeCooldowns(deps.state, deps.config.rollback, deps.clock.now())) {
      if (c.remainingSeconds > 0) gauge.set({ namespace: c.namespace, name: c.name }, 1);
    }
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  return router;
}
