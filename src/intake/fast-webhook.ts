/**
 * POST /webhook without express, for the requests Alertmanager actually sends: the exact
 * path, a Content-Length within the limit, JSON in UTF-8 without Content-Encoding, and the
 * right token. It answers exactly as the express route would — same bodies, headers,
 * metrics and request log line — without express's routing, pino-http's per-request
 * child logger, or body-parser's stream machinery (the profile's hot spots). Anything
 * else, every refusal decided from the headers included, is handed to express untouched
 * (the body not read), which answers as it always has.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorized } from '../http/auth.js';
import { answerFor } from '../http/errors.js';
import { invalidText } from './json-body.js';
import { answerWebhook, type WebhookDeps } from './webhook.js';

export interface FastWebhookDeps extends WebhookDeps {
  /** The X-Rollback-Receiver-Replica header every answer carries. */
  replica: string;
}

/** application/json, optionally with a UTF-8 charset: what body-parser would decode as UTF-8 too. */
const PLAIN_JSON = /^application\/json\s*(?:;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

/** Handles the request and returns true, or returns false having touched nothing. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

export function fastWebhook(deps: FastWebhookDeps): FastPath {
  const send = (res: ServerResponse, status: number, body: object, extra?: Record<string, string>) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'X-Rollback-Receiver-Replica': deps.replica,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(text)),
      ...extra,
    });
    res.end(text);
  };

  /** The line pino-http would write, at the level it would choose, only when that level prints. */
  const logRequest = (req: IncomingMessage, res: ServerResponse, started: number) => {
    const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
    if (!deps.log.isLevelEnabled(level)) return;
    deps.log[level](
      { req: { method: req.method, url: req.url, remoteAddress: req.socket.remoteAddress }, res: { statusCode: res.statusCode }, responseTime: Date.now() - started },
      'request completed',
    );
  };

  const answer = async (res: ServerResponse, text: string) => {
    let body: unknown;
    try {
      // As body-parser: a leading BOM dropped, an empty body taken as {}.
      const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
      body = json.length === 0 ? {} : JSON.parse(json);
    } catch (err) {
      send(res, 400, { error: 'malformed JSON', problems: [(err as Error).message] });
      return;
    }
    const invalid = invalidText(body);
    if (invalid) {
      send(res, 400, invalid);
      return;
    }
    try {
      const a = await answerWebhook(body, deps);
      send(res, a.status, a.body);
    } catch (err) {
      const a = answerFor(err);
      if (a.internal) deps.log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'unhandled error');
      send(res, a.status, { error: a.message }, a.status === 503 ? { 'Retry-After': '5' } : undefined);
    }
  };

  return (req, res) => {
    if (req.method !== 'POST' || req.url !== '/webhook' || deps.draining()) return false;
    const h = req.headers;
    const length = h['content-length'] === undefined ? NaN : Number(h['content-length']);
    if (!(length <= deps.bodyLimitBytes) || h['transfer-encoding'] !== undefined) return false;
    if ((h['content-encoding'] ?? 'identity').toLowerCase() !== 'identity' || !PLAIN_JSON.test(h['content-type'] ?? '')) return false;
    if (!authorized(deps.credentials.webhookToken, h.authorization)) return false;
    const started = Date.now();
    res.on('finish', () => {
      deps.metrics.webhooksReceived.inc({ status: String(res.statusCode) });
      logRequest(req, res, started);
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void answer(res, Buffer.concat(chunks).toString('utf8')));
    return true;
  };
}
