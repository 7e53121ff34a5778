/**
 * GET /api/v1/openapi.json describes exactly the routes the app serves: every route
 * registered in the express app has a declaration in src/http/openapi.ts, and every
 * declaration answers on the real app. Request schemas come from the zod schemas the
 * routes validate with.
 */
import express, { type Express, Router } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { query as decisionsQuery } from '../../src/api/decisions.js';
import { rollbackRequestSchema as manualRollbackBody } from '../../src/api/manual-rollback.js';
import { ROUTES, expandOptionalSegments, inputJsonSchema, openApiDocument, openApiPath, type RouteDoc } from '../../src/http/openapi.js';
import { webhookPayloadSchema } from '../../src/intake/payload.js';
import { DECISIONS } from '../../src/model.js';
import { bearer, serviceFactory } from '../integration/helpers.js';

const start = serviceFactory();
const TOKEN = 'openapi-test-operator-token';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `METHOD /path` of every route the app registers, in OpenAPI path form, optional segments expanded. */
function registeredRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: readonly Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods).filter((m) => m !== '_all')) {
          for (const p of paths.flatMap(expandOptionalSegments)) out.push(`${method.toUpperCase()} ${openApiPath(p)}`);
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}

function documentedRoutes(doc: Record<string, unknown>): string[] {
  const paths = doc.paths as Record<string, Record<string, unknown>>;
  return Object.entries(paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
}

/** The first concrete URL of a declared route: parameters filled with plausible values. */
function concretePath(route: RouteDoc): string {
  return expandOptionalSegments(route.path)[0]!.replace(/:([A-Za-z_]+)/g, (_m, name: string) => (name === 'namespace' ? 'prod' : name === 'name' ? 'api' : 'no-such-id'));
}

describe('GET /api/v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document served without credentials', async () => {
    const { service } = start({ credentials: { operatorToken: TOKEN } });
    const res = await request(service.app).get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ openapi: '3.1.0', info: { title: 'rollback-receiver' } });
    expect(res.body).toEqual(openApiDocument(String((res.body as { info: { version: string } }).info.version)));
  });

  it('documents every route the app registers, and nothing else', async () => {
    const { service } = start();
    const registered = registeredRoutes(service.app).sort();
    const documented = documentedRoutes(openApiDocument('test')).sort();
    expect(registered.length).toBeGreaterThan(15);
    expect({ undocumented: registered.filter((r) => !documented.includes(r)) }).toEqual({ undocumented: [] });
    expect({ documentedButMissing: documented.filter((r) => !registered.includes(r)) }).toEqual({ documentedButMissing: [] });
  });

  it('every documented route answers on the real app (not the fallback "no route")', async () => {
    const { service } = start({ credentials: { operatorToken: TOKEN } });
    for (const route of ROUTES) {
      const path = concretePath(route);
      const res = await request(service.app)[route.method](path).set('Authorization', bearer(TOKEN));
      expect([route.method, path, res.status, res.text.includes('no route')]).toEqual([route.method, path, res.status, false]);
      expect([route.method, path, res.status < 500]).toEqual([route.method, path, true]);
    }
  });

  it('declares each route once, with every status it answers described', () => {
    const doc = openApiDocument('test') as { paths: Record<string, Record<string, { responses: Record<string, { description: string }>; security: unknown[] }>> };
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        for (const r of Object.values(op.responses)) expect(r.description).toEqual(expect.any(String));
      }
    }
    expect(doc.paths['/api/v1/rollbacks']!.post!.responses).toHaveProperty('401');
    expect(doc.paths['/api/v1/rollbacks']!.post!.responses).toHaveProperty('403');
    expect(doc.paths['/health/live']!.get!.security).toEqual([]);
    expect(() => openApiDocument('test', [...ROUTES, ROUTES[0]!])).toThrow('GET / is declared twice');
  });
});

describe('request schemas are the zod schemas the routes validate with', () => {
  const doc = openApiDocument('test') as {
    paths: Record<string, Record<string, { parameters?: { name: string; in: string; required: boolean; schema: unknown }[]; requestBody?: { content: Record<string, { schema: unknown }> } }>>;
  };

  it('bodies', () => {
    expect(doc.paths['/webhook']!.post!.requestBody!.content['application/json']!.schema).toEqual(inputJsonSchema(webhookPayloadSchema));
    expect(doc.paths['/api/v1/rollbacks']!.post!.requestBody!.content['application/json']!.schema).toEqual(inputJsonSchema(manualRollbackBody));
  });

  it('query parameters, one per key, with the enum the route enforces', () => {
    const params = doc.paths['/api/v1/decisions']!.get!.parameters!;
    expect(params.map((p) => p.name).sort()).toEqual(Object.keys((decisionsQuery as z.ZodObject).shape).sort());
    expect(params.find((p) => p.name === 'decision')).toMatchObject({ in: 'query', required: false, schema: { enum: [...DECISIONS] } });
  });

  it('path parameters of DELETE /api/v1/cooldowns/{namespace}/{name}', () => {
    expect(doc.paths['/api/v1/cooldowns/{namespace}/{name}']!.delete!.parameters!.map((p) => [p.name, p.in, p.required])).toEqual([
      ['namespace', 'path', true],
      ['name', 'path', true],
    ]);
  });
});

describe('the completeness check fails loudly', () => {
  it('on a route added without a declaration, and on an optional segment declared once but served twice', () => {
    const app = express();
    const router = Router();
    router.get('/api/v1/widgets', (_req, res) => void res.json({}));
    router.delete('/api/v1/widgets/:namespace/:name{/:revision}', (_req, res) => void res.json({}));
    app.use(router);
    const documented = documentedRoutes(openApiDocument('test'));
    expect(registeredRoutes(app).filter((r) => !documented.includes(r))).toEqual([
      'GET /api/v1/widgets',
      'DELETE /api/v1/widgets/{namespace}/{name}',
      'DELETE /api/v1/widgets/{namespace}/{name}/{revision}',
    ]);
    const declared = documentedRoutes(
      openApiDocument('test', [{ method: 'delete', path: '/api/v1/widgets/:namespace/:name{/:revision}', access: 'operator', summary: 'clear', responses: { 200: 'cleared' } }]),
    );
    expect(declared).toEqual(['DELETE /api/v1/widgets/{namespace}/{name}', 'DELETE /api/v1/widgets/{namespace}/{name}/{revision}']);
  });
});
