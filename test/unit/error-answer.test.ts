/** The app's last error handler: every error answer is JSON, whatever the failing route had started to send. */
import express from 'express';
import { pino } from 'pino';
import { pinoHttp } from 'pino-http';
import request from 'supertest';
import { answerError } from '../../src/http/errors.js';

function appThrowing(err: Error, before: (res: express.Response) => void = () => undefined): express.Express {
  const app = express();
  app.use(pinoHttp({ logger: pino({ enabled: false }) }));
  app.get('/fails', (_req, res) => {
    before(res);
    throw err;
  });
  app.use(answerError);
  return app;
}

describe('answerError', () => {
  // Found by the hostile-input fuzz run: the status page failed after choosing text/html, and the answer said HTML.
  it('answers a bug as JSON after the route chose text/html', async () => {
    const res = await request(appThrowing(new RangeError('Invalid time value'), (r) => r.type('html'))).get('/fails');
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: 'internal error' });
  });

  it('answers a client mistake with its status and message as JSON', async () => {
    const err = Object.assign(new Error('Failed to decode param'), { status: 400 });
    const res = await request(appThrowing(err, (r) => r.type('text/markdown'))).get('/fails');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: 'Failed to decode param' });
  });
});
