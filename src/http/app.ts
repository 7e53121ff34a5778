/** The express application: intake, the operator API, the status page, health and metrics. */
import express, { type NextFunction, type Request, type Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { cooldownsRouter } from '../api/cooldowns.js';
import { decisionsRouter } from '../api/decisions.js';
import type { ApiDeps } from '../api/deps.js';
import { freezeRouter } from '../api/freeze.js';
import { healthRouter } from '../api/health.js';
import { manualRollbackRouter } from '../api/manual-rollback.js';
import { metricsRouter } from '../api/metrics.js';
import { openApiRouter } from '../api/openapi.js';
import { quarantineRouter } from '../api/quarantine.js';
import { gitopsRouter } from '../api/gitops.js';
import { rollbacksRouter } from '../api/rollbacks.js';
import { simulateRouter } from '../api/simulate.js';
import { statusRouter } from '../api/status.js';
import { windowsRouter } from '../api/windows.js';
import { webhookRouter } from '../intake/webhook.js';
import { statusPageRouter } from '../page/status-page.js';
import { answerError } from './errors.js';

const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

export function createApp(deps: ApiDeps & { log: Logger }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // With replicas, each keeps its own decision records: every answer says whose they are.
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('X-Rollback-Receiver-Replica', deps.replica);
    next();
  });
  app.set('etag', false);
  app.use(
    pinoHttp({
      logger: deps.log,
      autoLogging: { ignore: (req) => QUIET_PATHS.has(req.url ?? '') },
      serializers: {
        req: (req: { method: string; url: string; remoteAddress?: string }) => ({ method: req.method, url: req.url, remoteAddress: req.remoteAddress }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    }),
  );
  app.use(healthRouter(deps));
  app.use(metricsRouter(deps));
  app.use(
    webhookRouter({
      dispatcher: deps.dispatcher,
      credentials: deps.credentials,
      metrics: deps.metrics,
      log: deps.log,
      bodyLimitBytes: deps.config.bodyLimitBytes,
      draining: deps.draining,
    }),
  );
  app.use(simulateRouter(deps));
  app.use(decisionsRouter(deps));
  app.use(rollbacksRouter(deps));
  app.use(manualRollbackRouter(deps));
  app.use(windowsRouter(deps));
  app.use(cooldownsRouter(deps));
  app.use(quarantineRouter(deps));
  app.use(gitopsRouter(deps));
  app.use(freezeRouter(deps));
  app.use(statusRouter(deps));
  app.use(openApiRouter(deps));
  app.use(statusPageRouter(deps));
  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no route ${req.method} ${req.path}` });
  });
  // Last resort: input mistakes are 4xx, an unavailable store or cluster 503, a bug 500 — never a crash.
  app.use(answerError);
  return app;
}
