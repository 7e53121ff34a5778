/** GET /api/v1/openapi.json: the HTTP interface as OpenAPI 3.1, built once from the route declarations. */
import { Router } from 'express';
import { openApiDocument } from '../http/openapi.js';
import type { ApiDeps } from './deps.js';

export function openApiRouter(deps: Pick<ApiDeps, 'version'>): Router {
  const router = Router();
  const document = openApiDocument(deps.version);
  router.get('/api/v1/openapi.json', (_req, res) => {
    res.json(document);
  });
  return router;
}
