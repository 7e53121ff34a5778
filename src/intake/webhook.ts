/**
 * POST /webhook: Alertmanager's door. Answers 200 with one decision per alert only
 * once they are committed; 503 when the store cannot commit, so Alertmanager retries.
 * This express route answers what the fast path (fast-webhook.ts) hands over; both
 * answer a parsed body with {@link answerWebhook}.
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

/**
 * The answer to a JSON body: 400 with the problems when it is no Alertmanager payload,
 * else 200 with the committed decisions. A store or cluster outage throws (503 for the
 * caller to give, so Alertmanager retries), as does a bug (500).
 */
export async function answerWebhook(body: unknown, deps: Pick<WebhookDeps, 'dispatcher' | 'log'>): Promise<{ status: 200 | 400; body: object }> {
  const parsed = parsePayload(body);
  if (!parsed.ok) return { status: 400, body: { error: 'invalid Alertmanager webhook payload', problems: parsed.problems } };
  if (parsed.payload.group.truncatedAlerts > 0) {
    deps.log.warn(
      { receiver: parsed.payload.group.receiver, groupKey: parsed.payload.group.groupKey, truncatedAlerts: parsed.payload.group.truncatedAlerts },
      'Alertmanager truncated this group: those alerts are not in the payload and get no decision (raise max_alerts)',
    );
  }
  const decisions = await deps.dispatcher.submit(parsed.payload);
  return { status: 200, body: { decisions: decisions.map(toResponse) } };
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
      // Errors reach the app's error handler: 503 for an outage, 500 for a bug.
      const answer = await answerWebhook(req.body, deps);
      res.status(answer.status).json(answer.body);
    },
  );
  return router;
}
