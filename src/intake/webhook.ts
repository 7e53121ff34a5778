/**
 * POST /webhook: Alertmanager's door. Answers 200 with one decision per alert only
 * once they are committed; 503 when the store cannot commit, so Alertmanager retries.
 */
import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { requireWebhookToken, type Credentials } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import { jsonBody } from './json-body.js';
import { parsePayload } from './parse.js';
import { toResponse } from './response.js';

export interface WebhookDeps {
  dispatcher: Dispatcher;
  credentials: Credentials;
  metrics: Metrics;
  log: Logger;
  bodyLimitBytes: number;
  /** True once shutdown began: new payloads get 503 so Alertmanager re-sends them elsewhere or later. */
  draining: () => boolean;
}

export function webhookRouter(deps: WebhookDeps): Router {
  const router = Router();
  router.post(
    '/webhook',
    (_req: Request, res: Response, next) => {
      res.on('finish', () => deps.metrics.webhooksReceived.inc({ status: String(res.statusCode) }));
      if (deps.draining()) {
        res.status(503).setHeader('Retry-After', '5').json({ error: 'shutting down' });
        return;
      }
      next();
    },
    requireWebhookToken(deps.credentials),
    ...jsonBody(deps.bodyLimitBytes),
    async (req: Request, res: Response) => {
      const parsed = parsePayload(req.body);
      if (!parsed.ok) {
        res.status(400).json({ error: 'invalid Alertmanager webhook payload', problems: parsed.problems });
        return;
      }
      if (parsed.payload.group.truncatedAlerts > 0) {
        deps.log.warn(
          { receiver: parsed.payload.group.receiver, groupKey: parsed.payload.group.groupKey, truncatedAlerts: parsed.payload.group.truncatedAlerts },
          'Alertmanager truncated this group: those alerts are not in the payload and get no decision (raise max_alerts)',
        );
      }
      // A store or cluster outage answers 503 (Alertmanager retries); a bug 500 — both via the app's error handler.
      const decisions = await deps.dispatcher.submit(parsed.payload);
      res.status(200).json({ decisions: decisions.map(toResponse) });
    },
  );
  return router;
}
