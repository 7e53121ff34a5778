/**
 * GET /api/v1/gitops/pauses: the GitOps reconciliations rollbacks paused (Argo CD
 * Applications, Flux Kustomizations and HelmReleases), in force or resumed.
 * POST /api/v1/gitops/pauses/:id/resume: an operator resumes one (the value removed is
 * restored exactly; recorded, an Event and a notification).
 */
import { Router } from 'express';
import { z } from 'zod';
import { requireOperator, requireReader } from '../http/auth.js';
import { jsonBody } from '../intake/json-body.js';
import { ResumeError } from '../gitops/resume.js';
import type { GitOpsPauseRecord } from '../store/records.js';
import type { ApiDeps } from './deps.js';
import { parseOr400, queryOf } from './query.js';

export const pausesQuery = z
  .object({
    status: z.enum(['paused', 'resumed', 'all']).default('paused'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const resumeBody = z.object({ reason: z.string().max(1000).default('') }).strict();

const PAUSE_ID = /^[A-Za-z0-9_.-]{1,100}$/;

export function pauseView(p: GitOpsPauseRecord) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: p.id,
    rollbackId: p.rollbackId,
    namespace: p.target.namespace,
    name: p.target.name,
    tool: p.pause.tool,
    object: { apiVersion: p.pause.apiVersion, kind: p.pause.kind, namespace: p.pause.namespace, name: p.pause.name },
    field: p.pause.field.join('.'),
    /** The value removed or replaced by the pause, restored on resume (null: absent). */
    before: p.pause.before,
    why: p.pause.why,
    status: p.status,
    pausedAt: iso(p.pausedAt),
    resumedAt: iso(p.resumedAt),
    resumedBy: p.resumedBy,
    /** The source revision at the pause (resume on source change), when watched. */
    sourceRevision: p.pause.source?.revision ?? null,
  };
}

export function gitopsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/v1/gitops/pauses', requireReader(deps.credentials), (req, res) => {
    const q = parseOr400(pausesQuery, queryOf(req), res, 'query');
    if (!q) return;
    const all = deps.store.gitopsPauses({ active: q.status === 'paused', limit: q.limit });
    res.json({ pauses: all.filter((p) => q.status === 'all' || p.status === q.status).map(pauseView) });
  });
  router.post('/api/v1/gitops/pauses/:id/resume', requireOperator(deps.credentials), ...jsonBody(deps.config.bodyLimitBytes, { optional: true }), async (req, res) => {
    const id = String(req.params.id);
    if (!PAUSE_ID.test(id)) {
      res.status(400).json({ error: `"${id.slice(0, 80)}" is not a pause id (GET /api/v1/gitops/pauses lists them)` });
      return;
    }
    const b = parseOr400(resumeBody, req.body ?? {}, res, 'body');
    if (!b) return;
    if (!deps.store.gitopsPause(id)) {
      res.status(404).json({ error: `no GitOps pause ${id}` });
      return;
    }
    if (!deps.gitops) {
      res.status(503).json({ error: 'no cluster is configured: nothing can be resumed' });
      return;
    }
    try {
      const resumed = await deps.gitops.resume(id, `an operator via the API${b.reason ? `: ${b.reason}` : ''}`);
      res.json({ pause: pauseView(resumed), message: `resumed: ${resumed.resumedBy}` });
    } catch (err) {
      if (!(err instanceof ResumeError)) throw err;
      res.status(err.status).json({ error: err.message });
    }
  });
  return router;
}
