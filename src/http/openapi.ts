/**
 * The HTTP interface as OpenAPI 3.1, built from the zod schemas the routes validate
 * requests with, so the description cannot drift from what is enforced.
 *
 * Every route the app registers has exactly one entry in ROUTES (test/http/openapi.test.ts
 * walks the express router and fails on a route without one, or an entry without a
 * route). Adding a route is one entry: method, express path, access, a summary, the
 * schemas it validates, and what its statuses mean; the answers every route of that
 * access or with a body shares (401, 403, 413, 415, …) are added here.
 */
import { z } from 'zod';
import { body as freezeBody } from '../api/freeze.js';
import { query as decisionsQuery } from '../api/decisions.js';
import { rollbackRequestSchema } from '../api/manual-rollback.js';
import { quarantineQuerySchema } from '../api/quarantine.js';
import { pausesQuery as gitopsPausesQuery, resumeBody as gitopsResumeBody } from '../api/gitops.js';
import { query as rollbacksQuery } from '../api/rollbacks.js';
import { listQuery as windowsQuery, startBody as windowStartBody } from '../api/windows.js';
import { webhookPayloadSchema } from '../intake/payload.js';

/** Who may call a route (SPEC §3): no credentials, the webhook token, or the operator token ("read" routes are open while none is set). */
export type Access = 'none' | 'webhook' | 'read' | 'operator';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

export interface RouteDoc {
  method: HttpMethod;
  /** The express path: `:param` for a path parameter, `{/:param}` for an optional segment. */
  path: string;
  access: Access;
  summary: string;
  description?: string;
  /** What each path parameter names. */
  params?: Record<string, string>;
  query?: z.ZodType;
  body?: z.ZodType;
  /** The body may be left out altogether. */
  bodyOptional?: boolean;
  /** Status code → what it means here. */
  responses: Record<number, string>;
  /** Content type of the successful answers. */
  produces?: 'application/json' | 'text/html' | 'text/markdown' | 'text/plain';
}

const TARGET_PARAMS = { namespace: 'the target\'s namespace', name: 'the target\'s name (the Deployment, or the base name for blue-green and scale-swap)' };

export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/',
    access: 'operator',
    summary: 'Status page',
    description:
      'Server-rendered HTML for people: mode, freeze and brake, running rollbacks with their current step, cooldowns with the time left, monitoring windows with their samples drawn against the thresholds, recent decisions with reasons and links to incident reports. Read-only; refreshes itself. Browsers use basic auth with any user name and the operator token as the password.',
    responses: { 200: 'the page' },
    produces: 'text/html',
  },
  { method: 'get', path: '/health/live', access: 'none', summary: 'Liveness: the process answers', responses: { 200: '`{"status":"ok"}`' } },
  {
    method: 'get',
    path: '/health/ready',
    access: 'none',
    summary: 'Readiness: the store answers and the receiver is not shutting down',
    responses: { 200: '`{"status":"ready","checks":{…}}`', 503: 'not ready; `checks` says which check fails' },
  },
  { method: 'get', path: '/metrics', access: 'none', summary: 'Prometheus metrics (see metrics.md)', responses: { 200: 'text exposition format' }, produces: 'text/plain' },
  {
    method: 'post',
    path: '/webhook',
    access: 'webhook',
    summary: "Alertmanager's webhook (payload version 4)",
    description:
      'Decides every alert of the payload and answers once the decisions are durably recorded (it never waits for a rollback): `{"decisions": [{fingerprint, startsAt, trigger, namespace, name, strategy, decision, reason, rollbackId?}]}`, one entry per alert in payload order. A payload is recorded whole or not at all. Alertmanager retries 5xx answers and drops 4xx ones.',
    body: webhookPayloadSchema,
    responses: {
      200: 'the decisions, in payload order',
      400: 'malformed JSON or not a version 4 payload; `problems` lists every problem',
      503: 'the store cannot commit, the cluster cannot be read, or the receiver is shutting down (`Retry-After`)',
    },
  },
  {
    method: 'post',
    path: '/api/v1/simulate',
    access: 'read',
    summary: 'The decisions a payload would get now; records and changes nothing',
    description: 'Same body as `/webhook`. Each decision carries `wouldRollBack` and, with a cluster, the `plan`: the exact API requests a live run would send.',
    body: webhookPayloadSchema,
    responses: { 200: '`{"simulated": true, "decisions": [...]}`', 400: 'not a version 4 payload; `problems` lists every problem' },
  },
  {
    method: 'get',
    path: '/api/v1/decisions',
    access: 'read',
    summary: 'Recent decisions with their reasons, newest first',
    query: decisionsQuery,
    responses: { 200: '`{"decisions": [...]}`' },
  },
  {
    method: 'get',
    path: '/api/v1/rollbacks',
    access: 'read',
    summary: 'Rollback records with every step and API request, and their monitoring window',
    query: rollbacksQuery,
    responses: { 200: '`{"rollbacks": [{id, namespace, name, strategy, kind, status, reason, startedAt, finishedAt, steps, window}]}`' },
  },
  {
    method: 'get',
    path: '/api/v1/rollbacks/:id',
    access: 'read',
    summary: 'One rollback record',
    params: { id: 'the rollback id' },
    responses: { 200: 'the rollback', 404: 'no rollback with that id' },
  },
  {
    method: 'get',
    path: '/api/v1/rollbacks/:id/report',
    access: 'read',
    summary: 'The incident report of a rollback (Markdown)',
    params: { id: 'the rollback id' },
    responses: { 200: 'the report', 404: 'no rollback with that id' },
    produces: 'text/markdown',
  },
  {
    method: 'post',
    path: '/api/v1/rollbacks',
    access: 'operator',
    summary: 'Manual, emergency or scripted-automatic rollback',
    description:
      'Names the target by `namespace` and `name`, or by an `environment` from the config. Admitted through the same single point as alerts, with the destination pinned there: by default the newest older revision that is not quarantined; `toRevision`/`rollbackTag` name one (a manual or emergency request may name a quarantined one, an automatic one never). Manual rollbacks are validated first; emergency ones are not and do not wait. `automatic: true` meets the same opt-in, freeze, cooldown, retry, brake, stale (`detectedAt`) and destination guards as alerts. `dryRun: true` answers what a live request would get and the exact requests, recording nothing.',
    body: rollbackRequestSchema,
    responses: {
      200: '`dryRun: true`: `wouldRollBack`, the decision and reason when it would not, the pinned destination (`pin`), the plan and a snapshot of the current state',
      202: 'admitted and started: the rollback record, its `pin` and its plan',
      400: 'invalid request, unknown environment, or a target that is not allowed',
      409: 'a rollback holds the target (`rollbackId` names it), an automatic request is held by a guard (`decision`), or the receiver runs in dry-run mode',
      422: 'pre-rollback validation failed or no revision is safe to go to (manual and emergency rollbacks)',
      503: 'no cluster configured, shutting down, or the shared state could not be read',
    },
  },
  {
    method: 'get',
    path: '/api/v1/windows',
    access: 'read',
    summary: 'Monitoring windows with their samples and stage checkpoints (`stages`: passed, breached, unknown, pending, not-reached)',
    query: windowsQuery,
    responses: { 200: '`{"windows": [...]}`' },
  },
  {
    method: 'get',
    path: '/api/v1/windows/:id',
    access: 'read',
    summary: 'One monitoring window with its samples and stage checkpoints',
    params: { id: 'the window id' },
    responses: { 200: 'the window', 404: 'no window with that id' },
  },
  {
    method: 'post',
    path: '/api/v1/windows',
    access: 'operator',
    summary: 'Open a monitoring window on a target, or attach to the one open (`monitor-deployment`)',
    body: windowStartBody,
    responses: {
      200: 'attached to the window already open on the target (`attached: true`)',
      201: 'opened a window',
      400: 'invalid request, unknown environment, a target that is not allowed, or a duration shorter than the interval',
      409: 'monitoring is disabled',
    },
  },
  {
    method: 'get',
    path: '/api/v1/cooldowns',
    access: 'read',
    summary: 'Targets cooling down or out of retries, with the time left',
    responses: { 200: '`{"cooldowns": [{namespace, name, lastRollbackAt, lastRollbackEndedAt, endsAt, remainingSeconds, attemptsInRetryWindow, retriesExhausted}]}` (cooldown counts from the end of a rollback)' },
  },
  {
    method: 'delete',
    path: '/api/v1/cooldowns/:namespace/:name',
    access: 'operator',
    summary: "Clear a target's cooldown and retry count",
    params: TARGET_PARAMS,
    responses: { 200: 'cleared (`cleared` is the cooldown that was active, or null)', 400: 'not a valid namespace or name' },
  },
  {
    method: 'get',
    path: '/api/v1/quarantine',
    access: 'read',
    summary: 'Revisions per target: bad (rolled away from: never an automatic destination), installed, known-good',
    query: quarantineQuerySchema,
    responses: { 200: '`{"revisions": [{namespace, name, revision, label, number, images, status, since, rollbackId}]}`, newest first' },
  },
  {
    method: 'delete',
    path: '/api/v1/quarantine/:namespace/:name{/:revision}',
    access: 'operator',
    summary: 'Clear the quarantine of one revision, or of every bad revision of the target',
    params: { ...TARGET_PARAMS, revision: 'a revision id from GET /api/v1/quarantine (optional: every bad revision of the target)' },
    responses: { 200: '`{"cleared": [...], "message"}`', 400: 'not a valid namespace, name or revision id', 404: 'that revision is not quarantined' },
  },
  {
    method: 'get',
    path: '/api/v1/gitops/pauses',
    access: 'read',
    summary: 'GitOps reconciliations rollbacks paused (Argo CD Applications, Flux Kustomizations and HelmReleases)',
    description: 'Each with the object, the field and the value the pause removed or replaced (restored on resume), why, and when it was paused and resumed. `status`: `paused` (in force, the default), `resumed` or `all`; newest first.',
    query: gitopsPausesQuery,
    responses: { 200: '`{"pauses": [{id, rollbackId, namespace, name, tool, object, field, before, why, status, pausedAt, resumedAt, resumedBy, sourceRevision}]}`' },
  },
  {
    method: 'post',
    path: '/api/v1/gitops/pauses/:id/resume',
    access: 'operator',
    summary: 'Resume a paused GitOps reconciliation: restore exactly what the pause removed',
    description: 'Sent only while the pause is still in effect; a field someone else changed since is not overwritten (409). Recorded, an Event `GitOpsResumed` on the rolled-back workload and a `gitops_resumed` notification.',
    params: { id: 'a pause id from GET /api/v1/gitops/pauses' },
    body: gitopsResumeBody,
    bodyOptional: true,
    responses: {
      200: '`{"pause": {...}, "message"}`: resumed (or found restored already, said in `resumedBy`)',
      400: 'not a pause id',
      404: 'no such pause',
      409: 'resumed already, or the object changed since the pause',
      503: 'no cluster configured, or the Kubernetes API did not answer',
    },
  },
  { method: 'get', path: '/api/v1/freeze', access: 'operator', summary: 'Whether automatic rollbacks are paused', responses: { 200: '`{"frozen": true, "since", "reason"}` or `{"frozen": false}`' } },
  {
    method: 'put',
    path: '/api/v1/freeze',
    access: 'operator',
    summary: 'Pause automatic rollbacks (alerts are decided `frozen`)',
    body: freezeBody,
    bodyOptional: true,
    responses: { 200: 'the freeze now in force' },
  },
  { method: 'delete', path: '/api/v1/freeze', access: 'operator', summary: 'Resume automatic rollbacks', responses: { 200: '`{"frozen": false}`' } },
  {
    method: 'get',
    path: '/api/v1/status',
    access: 'read',
    summary: 'Mode, freeze, brake, store, cluster, triggers and versions',
    responses: { 200: 'the status' },
  },
  { method: 'get', path: '/api/v1/openapi.json', access: 'none', summary: 'This description of the HTTP interface (OpenAPI 3.1)', responses: { 200: 'the OpenAPI document' } },
];

/** A route's answers: its own, and those every route of its access or with a body or query shares. */
export function responsesOf(route: RouteDoc): Record<number, string> {
  const shared: Record<number, string> = {};
  if (route.access === 'webhook') shared[401] = 'missing or wrong webhook token';
  if (route.access === 'read') shared[401] = 'missing or wrong operator token (only when one is configured)';
  if (route.access === 'operator') {
    shared[401] = 'missing or wrong operator token';
    shared[403] = 'no operator token is configured on the receiver';
  }
  if (route.query) shared[400] = 'invalid query; `problems` names each parameter';
  if (route.body) {
    shared[400] = 'invalid body; `problems` names each field';
    shared[413] = 'body larger than `server.bodyLimit`';
    shared[415] = 'not `Content-Type: application/json`';
  }
  return { ...shared, ...route.responses };
}

/** `/a/:x{/:y}` → [`/a/:x`, `/a/:x/:y`]: OpenAPI has no optional path segments. */
export function expandOptionalSegments(path: string): string[] {
  const open = path.indexOf('{');
  if (open < 0) return [path];
  const close = path.indexOf('}', open);
  if (close < 0) throw new Error(`unbalanced "{" in route path ${path}`);
  const rest = path.slice(close + 1);
  return [
    ...expandOptionalSegments(path.slice(0, open) + rest),
    ...expandOptionalSegments(path.slice(0, open) + path.slice(open + 1, close) + rest),
  ];
}

/** `/api/v1/rollbacks/:id` → `/api/v1/rollbacks/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

type JsonSchema = Record<string, unknown> & { properties?: Record<string, unknown>; required?: string[] };

/** The JSON Schema of what a client sends (zod's input side: before defaults and transforms). */
export function inputJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const SECURITY: Record<Access, Record<string, string[]>[]> = {
  none: [],
  webhook: [{ webhookBearer: [] }, { webhookBasic: [] }],
  read: [{ operatorBearer: [] }, { operatorBasic: [] }, {}],
  operator: [{ operatorBearer: [] }, { operatorBasic: [] }],
};

function operation(route: RouteDoc, path: string): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = [];
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    parameters.push({ name, in: 'path', required: true, description: route.params?.[name!] ?? name, schema: { type: 'string' } });
  }
  if (route.query) {
    const schema = inputJsonSchema(route.query);
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      const { description, ...propertySchema } = property as JsonSchema;
      parameters.push({ name, in: 'query', required: schema.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: propertySchema });
    }
  }
  const statuses = responsesOf(route);
  const produces = route.produces ?? 'application/json';
  const responses = Object.fromEntries(
    Object.entries(statuses).map(([status, description]) => [
      status,
      Number(status) < 300
        ? { description, content: { [produces]: {} } }
        : { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
    ]),
  );
  return {
    operationId: `${route.method}_${path.replace(/[{}]/g, '').split(/[^A-Za-z0-9]+/).filter(Boolean).join('_') || 'root'}`,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    'x-access': route.access,
    security: SECURITY[route.access],
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? { requestBody: { required: !route.bodyOptional, content: { 'application/json': { schema: inputJsonSchema(route.body) } } } }
      : {}),
    responses,
  };
}

export function openApiDocument(version: string, routes: readonly RouteDoc[] = ROUTES): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    for (const expressPath of expandOptionalSegments(route.path)) {
      const path = openApiPath(expressPath);
      paths[path] ??= {};
      if (paths[path][route.method]) throw new Error(`${route.method.toUpperCase()} ${path} is declared twice`);
      paths[path][route.method] = operation(route, path);
    }
  }
  const token = (env: string) => `the ${env} value (or ${env}_FILE)`;
  return {
    openapi: '3.1.0',
    info: {
      title: 'rollback-receiver',
      version,
      description: 'Turns Prometheus Alertmanager alerts into safe, verified Kubernetes rollbacks.',
    },
    paths,
    components: {
      securitySchemes: {
        webhookBearer: { type: 'http', scheme: 'bearer', description: `Authorization: Bearer with ${token('ROLLBACK_WEBHOOK_TOKEN')}` },
        webhookBasic: { type: 'http', scheme: 'basic', description: `basic auth, any user name, password ${token('ROLLBACK_WEBHOOK_TOKEN')}` },
        operatorBearer: { type: 'http', scheme: 'bearer', description: `Authorization: Bearer with ${token('ROLLBACK_OPERATOR_TOKEN')}` },
        operatorBasic: { type: 'http', scheme: 'basic', description: `basic auth, any user name, password ${token('ROLLBACK_OPERATOR_TOKEN')} (what browsers use)` },
      },
      schemas: {
        Error: {
          type: 'object',
          properties: { error: { type: 'string', description: 'what is wrong' }, problems: { type: 'array', items: { type: 'string' }, description: 'one line per invalid field' } },
          required: ['error'],
        },
      },
    },
  };
}
