/** POST /api/v1/simulate: the decisions a payload would get now; records and changes nothing. */
import { Router } from 'express';
import { requireReader } from '../http/auth.js';
import { jsonBody } from '../intake/json-body.js';
import { parsePayload } from '../intake/parse.js';
import { planView } from '../execution/strategies/strategy.js';
import { toResponse } from '../intake/response.js';
import type { ApiDeps } from './deps.js';

export function simulateRouter(deps: ApiDeps): Router {
  const router = Router();
  router.post('/api/v1/simulate', requireReader(deps.credentials), ...jsonBody(deps.config.bodyLimitBytes), async (req, res) => {
    const parsed = parsePayload(req.body);
    if (!parsed.ok) {
      res.status(400).json({ error: 'invalid Alertmanager webhook payload', problems: parsed.problems });
      return;
    }
    const decisions = await deps.dispatcher.simulate(parsed.payload);
    const answers = await Promise.all(
      decisions.map(async (d) => {
        // Nothing is recorded, so no rollback id is handed out; the plan is what a live run would send now.
        const answer = { ...toResponse(d), rollbackId: undefined, wouldRollBack: d.rollback !== undefined };
        if (!d.rollback || !deps.executor) return { ...answer, plan: null };
        const { plan } = await deps.executor.plan(d.rollback);
        return { ...answer, pin: d.rollback.pin, plan: planView(plan) };
      }),
    );
    res.json({ simulated: true, decisions: answers });
  });
  return router;
}
