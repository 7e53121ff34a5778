/** PUT /api/v1/freeze pauses automatic rollbacks; DELETE resumes them. */
import { Router } from 'express';
import { z } from 'zod';
import { requireOperator } from '../http/auth.js';
import type { ApiDeps } from './deps.js';
import { jsonBody } from '../intake/json-body.js';
import { parseOr400 } from './query.js';

export const body = z.object({ reason: z.string().max(1000).default('') }).strict();

export function freezeRouter(deps: ApiDeps): Router {
  const router = Router();
  const freezeView = () => {
    const f = deps.state.freeze();
    return f ? { frozen: true, since: new Date(f.since).toISOString(), reason: f.reason } : { frozen: false };
  };
  router.get('/api/v1/freeze', requireOperator(deps.credentials), (_req, res) => {
    res.json(freezeView());
  });
  router.put('/api/v1/freeze', requireOperator(deps.credentials), ...jsonBody(deps.config.bodyLimitBytes, { optional: true }), async (req, res) => {
    const b = parseOr400(body, req.body ?? {}, res, 'body');
    if (!b) return;
    await deps.dispatcher.record([{ type: 'freeze', freeze: { since: deps.clock.now(), reason: b.reason } }]);
    res.json(freezeView());
  });
  router.delete('/api/v1/freeze', requireOperator(deps.credentials), async (_req, res) => {
    await deps.dispatcher.record([{ type: 'freeze', freeze: null }]);
    res.json(freezeView());
  });
  return router;
}
