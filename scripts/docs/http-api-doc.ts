/**
 * docs/http-api.md from the route declarations of src/http/openapi.ts, which carry the
 * zod schemas the routes validate with: the same source as GET /api/v1/openapi.json.
 */
import { ROUTES, expandOptionalSegments, responsesOf, type Access, type RouteDoc } from '../../src/http/openapi.js';
import { GENERATED_NOTE, markdownTable } from './markdown.js';
import { keysOf, rulesOf, toJson, typeOf, type Row } from './schema-table.js';

const ACCESS: Record<Access, string> = {
  none: 'none',
  webhook: 'webhook token',
  read: 'operator token, when one is set',
  operator: 'operator token (refused while none is configured)',
};

function fieldTable(rows: readonly Row[], what: string): string {
  return markdownTable(
    [what, 'type', 'default', 'rules'],
    rows.map((r) => [`\`${r.key}\``, typeOf(r.schema), r.schema.default === undefined ? (r.required ? 'required' : '—') : `\`${JSON.stringify(r.schema.default)}\``, rulesOf(r.schema).join('; ')]),
  );
}

function routeSection(route: RouteDoc): string[] {
  const title = expandOptionalSegments(route.path).map((p) => `\`${route.method.toUpperCase()} ${p}\``).join(', ');
  const out = [`### ${title}`, '', `${route.summary}. Credentials: ${ACCESS[route.access]}.${route.produces ? ` Answers \`${route.produces}\`.` : ''}`, ''];
  if (route.description) out.push(route.description, '');
  const params = [...route.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
  if (params.length) out.push('Path:', '', ...params.map((p) => `- \`${p}\`: ${route.params?.[p] ?? p}`), '');
  for (const [schema, what] of [
    [route.query, 'query parameter'],
    [route.body, 'body field'],
  ] as const) {
    if (!schema) continue;
    const rows: Row[] = [];
    keysOf(toJson(schema), '', rows);
    out.push(`${what === 'body field' ? `Body (JSON${route.bodyOptional ? ', optional' : ''})` : 'Query'}:`, '', fieldTable(rows, what), '');
  }
  out.push(markdownTable(['status', 'meaning'], Object.entries(responsesOf(route)).map(([status, meaning]) => [status, meaning])), '');
  return out;
}

export function httpApiDoc(): string {
  return [
    '# HTTP API',
    '',
    GENERATED_NOTE('the route declarations in `src/http/openapi.ts` and the zod schemas the routes validate with'),
    '',
    'The same description, machine-readable: `GET /api/v1/openapi.json` (OpenAPI 3.1).',
    '',
    '**Credentials.** The webhook token (`ROLLBACK_WEBHOOK_TOKEN` or `ROLLBACK_WEBHOOK_TOKEN_FILE`) guards `/webhook` when set; live mode refuses to start without one unless `auth.allowUnauthenticatedWebhook: true`. The operator token (`ROLLBACK_OPERATOR_TOKEN` or `…_FILE`) guards the rest: "read" routes need it when one is set and are open otherwise; "operator" routes answer 403 until one is set. Send a token as `Authorization: Bearer <token>`, or as the password of basic auth with any user name (what browsers do after the 401 challenge; Alertmanager\'s `http_config.authorization` works unchanged). Tokens are compared in constant time and never logged.',
    '',
    '**Errors** are JSON: `{"error": "what is wrong", "problems": ["field: why", …]}`, `problems` when a body or query is invalid. Nonsense gets a 4xx naming what is wrong, never a 5xx.',
    '',
    markdownTable(
      ['route', 'credentials', 'what'],
      ROUTES.flatMap((r) => expandOptionalSegments(r.path).map((p) => [`\`${r.method.toUpperCase()} ${p}\``, r.access, r.summary])),
    ),
    '',
    '## Routes',
    '',
    ...ROUTES.flatMap(routeSection),
  ].join('\n');
}
