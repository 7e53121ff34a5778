/**
 * GET /api/v1/quarantine: the revisions the receiver knows per target — `bad` (it rolled
 * away from them: never an automatic destination), `installed` (it rolled to them, not
 * proven yet) and `known-good` (they passed a monitoring window).
 * DELETE /api/v1/quarantine/:namespace/:name[/:revision]: an operator clears a quarantine
 * (one revision, or every bad revision of the target).
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { requireOperator, requireReader } from '../http/auth.js';
import { nameProblem, namespaceProblem } from '../matching/names.js';
import type { Target } from '../model.js';
import type { RevisionMark } from '../store/records.js';
import type { StateIndex } from '../store/state-index.js';
import type { ApiDeps } from './deps.js';
import { parseOr400, queryOf } from './query.js';

export const quarantineQuerySchema = z
  .object({
    namespace: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    status: z.enum(['bad', 'installed', 'known-good']).optional(),
  })
  .strict()
  .refine((q) => (q.namespace === undefined) === (q.name === undefined), { message: 'namespace and name go together' });

const REVISION_ID = /^[a-z0-9-]{1,63}(@[0-9a-f]{12})?$|^[0-9a-f]{12}$/;

export function revisionView(target: Target, m: RevisionMark) {
  return {
    namespace: target.namespace,
    name: target.name,
    revision: m.revision.id,
    label: m.revision.label,
    number: m.revision.number ?? null,
    images: m.revision.images,
    status: m.status,
    since: new Date(m.since).toISOString(),
    rollbackId: m.rollbackId,
  };
}

/** Every revision on record, newest first; for the API and the status page. */
export function quarantineView(state: StateIndex, filter: { target?: Target; status?: RevisionMark['status'] } = {}) {
  const targets = filter.target ? [filter.target] : state.revisionTargets();
  return targets
    .flatMap((t) => [...state.revisions(t).values()].map((m) => ({ t, m })))
    .filter(({ m }) => !filter.status || m.status === filter.status)
    .sort((a, b) => b.m.since - a.m.since)
    .map(({ t, m }) => revisionView(t, m));
}

export function quarantineRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/v1/quarantine', requireReader(deps.credentials), async (req, res) => {
    const q = parseOr400(quarantineQuerySchema, queryOf(req), res, 'query');
    if (!q) return;
    await deps.shared?.refreshAll();
    const target = q.namespace && q.name ? { namespace: q.namespace, name: q.name } : undefined;
    res.json({ revisions: quarantineView(deps.state, { target, status: q.status }) });
  });
  const clear = async (req: Request, res: Response) => {
    const namespace = String(req.params.namespace);
    const name = String(req.params.name);
    const revision = req.params.revision === undefined ? undefined : String(req.params.revision);
    const problem =
      namespaceProblem(namespace) ??
      nameProblem(name) ??
      (revision !== undefined && !REVISION_ID.test(revision) ? `"${revision.slice(0, 80)}" is not a revision id (GET /api/v1/quarantine lists them)` : undefined);
    if (problem) {
      res.status(400).json({ error: problem });
      return;
    }
    const target = { namespace, name };
    await deps.shared?.refresh([target]);
    const bad = [...deps.state.revisions(target).values()].filter((m) => m.status === 'bad' && (revision === undefined || m.revision.id === revision));
    if (revision !== undefined && bad.length === 0) {
      res.status(404).json({ error: `revision ${revision} is not quarantined for ${namespace}/${name}` });
      return;
    }
    await deps.dispatcher.record([{ type: 'quarantine-clear', target, revisionId: revision ?? null, at: deps.clock.now() }]);
    res.json({
      namespace,
      name,
      cleared: bad.map((m) => revisionView(target, m)),
      message: bad.length ? `cleared ${bad.length} quarantined revision(s): automatic rollbacks may go to them again` : 'nothing was quarantined',
    });
  };
  router.delete('/api/v1/quarantine/:namespace/:name{/:revision}', requireOperator(deps.credentials), clear);
  return router;
}
