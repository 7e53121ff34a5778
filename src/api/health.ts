/** Liveness (the process answers) and readiness (the store answers; not while draining). */
import { Router } from 'express';
import type { ApiDeps } from './deps.js';

export function healthRouter(deps: Pick<ApiDeps, 'store' | 'draining'>): Router {
  const router = Router();
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/health/ready', (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      deps.store.ping();
      checks.store = 'ok';
    } catch (err) {
      checks.store = `failing: ${(err as Error).message}`;
    }
    if (deps.draining()) checks.shutdown = 'draining';
    const ready = checks.store === 'ok' && !deps.draining();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  return router;
}
