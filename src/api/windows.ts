/**
 * Monitoring windows: GET /api/v1/windows[/:id] with their samples, and
 * POST /api/v1/windows to open one on a target or attach to the one already open
 * (what `monitor-deployment` uses).
 */
import { Router } from 'express';
import { z } from 'zod';
import { requireOperator, requireReader } from '../http/auth.js';
import { jsonBody } from '../intake/json-body.js';
import type { SampleRecord, WindowRecord } from '../store/records.js';
import type { SqliteStore } from '../store/sqlite.js';
import type { ApiDeps } from './deps.js';
import { operatorTarget } from './operator-target.js';
import { parseOr400, queryOf } from './query.js';
import { duration } from '../config/fields.js';
import { stageCheckpoints } from '../monitoring/stages.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function windowView(w: WindowRecord, samples: SampleRecord[]) {
  return {
    id: w.id,
    rollbackId: w.rollbackId,
    namespace: w.namespace,
    name: w.name,
    deployment: w.deployment,
    status: w.status,
    escalation: w.escalation,
    startedAt: iso(w.startedAt),
    endsAt: iso(w.endsAt),
    finishedAt: iso(w.finishedAt),
    intervalSeconds: w.intervalMs / 1000,
    note: w.note ?? null,
    samples: samples.map((s) => ({ at: iso(s.at), metric: s.metric, value: s.value, threshold: s.threshold, state: s.state, detail: s.detail })),
    stages: stageCheckpoints(w, samples).map((c) => ({ stage: c.stage, offsetSeconds: c.offsetMs / 1000, at: iso(c.at), status: c.status, samples: c.samples, detail: c.detail })),
  };
}

/** The newest window of a rollback, with its samples, or null. */
export function rollbackWindow(store: SqliteStore, rollbackId: string) {
  const [w] = store.windows({ rollbackId });
  return w ? windowView(w, store.samples(w.id)) : null;
}

export const listQuery = z
  .object({
    namespace: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    status: z.enum(['active', 'recovered', 'breached', 'escalated', 'stopped']).optional(),
  })
  .strict()
  .refine((q) => (q.namespace === undefined) === (q.name === undefined), { message: 'namespace and name go together' });

export const startBody = z
  .object({
    environment: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    duration: duration.optional(),
  })
  .strict();

export function windowsRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/api/v1/windows', requireReader(deps.credentials), (req, res) => {
    const q = parseOr400(listQuery, queryOf(req), res, 'query');
    if (!q) return;
    const target = q.namespace && q.name ? { namespace: q.namespace, name: q.name } : undefined;
    res.json({ windows: deps.store.windows({ status: q.status, target }).map((w) => windowView(w, deps.store.samples(w.id))) });
  });
  router.get('/api/v1/windows/:id', requireReader(deps.credentials), (req, res) => {
    const id = String(req.params.id);
    const w = deps.store.window(id);
    if (!w) {
      res.status(404).json({ error: `no monitoring window ${id}` });
      return;
    }
    res.json(windowView(w, deps.store.samples(w.id)));
  });
  router.post('/api/v1/windows', requireOperator(deps.credentials), ...jsonBody(deps.config.bodyLimitBytes), async (req, res) => {
    const b = parseOr400(startBody, req.body, res, 'window request');
    if (!b) return;
    const checked = operatorTarget(b, deps.config);
    if (!checked.ok) {
      res.status(400).json({ error: checked.problem });
      return;
    }
    const { namespace, name } = checked.target;
    if (!deps.monitor) {
      res.status(409).json({ error: 'monitoring is disabled (monitoring.enhanced.enabled: false)' });
      return;
    }
    if (b.duration !== undefined && b.duration < deps.config.monitoring.intervalMs) {
      res.status(400).json({ error: `duration must be at least the interval (${deps.config.monitoring.intervalMs / 1000}s)` });
      return;
    }
    const attached = deps.monitor.openOn({ namespace, name });
    const w = attached ?? (await deps.monitor.start({ namespace, name }, null, b.duration));
    res.status(attached ? 200 : 201).json({ ...windowView(w, deps.store.samples(w.id)), attached: attached !== undefined });
  });
  return router;
}
