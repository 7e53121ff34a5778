/** GET /api/v1/cooldowns, DELETE /api/v1/cooldowns/:namespace/:name (clears cooldown and retry count). */
import { Router } from 'express';
import { nameProblem, namespaceProblem } from '../matching/names.js';
import { requireOperator, requireReader } from '../http/auth.js';
import { activeCooldowns } from './cooldown-view.js';
import type { ApiDeps } from './deps.js';

export function cooldownsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/v1/cooldowns', requireReader(deps.credentials), async (_req, res) => {
    await deps.shared?.refreshAll();
    res.json({ cooldowns: activeCooldowns(deps.state, deps.config.rollback, deps.clock.now()) });
  });
  router.delete('/api/v1/cooldowns/:namespace/:name', requireOperator(deps.credentials), async (req, res) => {
    const namespace = String(req.params.namespace);
    const name = String(req.params.name);
    const problem = namespaceProblem(namespace) ?? nameProblem(name);
    if (problem) {
      res.status(400).json({ error: problem });
      return;
    }
    const now = deps.clock.now();
    const before = activeCooldowns(deps.state, deps.config.rollback, now).find((c) => c.namespace === namespace && c.name === name);
    await deps.dispatcher.record([{ type: 'guard-reset', target: { namespace, name }, at: now }]);
    res.json({
      namespace,
      name,
      cleared: before ?? null,
      message: before ? 'cooldown and retry count cleared' : 'no active cooldown; reset recorded anyway',
    });
  });
  return router;
}
