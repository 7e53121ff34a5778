/**
 * Credentials of SPEC §3: a webhook token and an operator token, from the environment
 * or a file, presented as a bearer token or as a basic-auth password, compared in
 * constant time. Token values never reach a log line.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { secretFromFile } from '../config/secrets.js';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface Credentials {
  webhookToken?: string;
  operatorToken?: string;
}

export class CredentialsError extends Error {}

type Env = Record<string, string | undefined>;

function readToken(env: Env, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct && file) throw new CredentialsError(`set ${name} or ${name}_FILE, not both`);
  if (file) {
    const r = secretFromFile(file, `${name}_FILE`);
    if ('problem' in r) throw new CredentialsError(r.problem);
    return r.value;
  }
  // A token pasted with a trailing newline must still match what Alertmanager sends.
  return direct?.trim() || undefined;
}

export function loadCredentials(env: Env = process.env): Credentials {
  return { webhookToken: readToken(env, 'ROLLBACK_WEBHOOK_TOKEN'), operatorToken: readToken(env, 'ROLLBACK_OPERATOR_TOKEN') };
}

/** The token a request presents: `Authorization: Bearer T`, or basic auth with T as the password. */
export function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value || undefined;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) || undefined : undefined;
  }
  return undefined;
}

/** Constant-time comparison that does not leak the expected token's length either. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function deny(res: Response, status: 401 | 403, message: string, basic: boolean): void {
  if (status === 401) {
    res.setHeader('WWW-Authenticate', basic ? 'Basic realm="rollback-receiver", charset="UTF-8"' : 'Bearer realm="rollback-receiver"');
  }
  res.status(status).json({ error: message });
}

/** Whether an Authorization header satisfies a route that expects `expected` (none expected: always). */
export function authorized(expected: string | undefined, authorization: string | undefined): boolean {
  if (expected === undefined) return true;
  const token = presentedToken(authorization);
  return token !== undefined && tokenMatches(token, expected);
}

/** `/webhook`: the webhook token when one is configured (startup refuses live mode without one). */
export function requireWebhookToken(creds: Credentials): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (authorized(creds.webhookToken, req.headers.authorization)) return next();
    deny(res, 401, 'missing or wrong webhook credentials (Authorization: Bearer <ROLLBACK_WEBHOOK_TOKEN>)', false);
  };
}

/** "read" routes: the operator token when one is set, open otherwise. */
export function requireReader(creds: Credentials): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (authorized(creds.operatorToken, req.headers.authorization)) return next();
    deny(res, 401, 'missing or wrong operator credentials', true);
  };
}

/** "operator" routes: refused outright unless an operator token is configured. */
export function requireOperator(creds: Credentials): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (creds.operatorToken === undefined) {
      res.status(403).json({ error: 'operator token not configured (set ROLLBACK_OPERATOR_TOKEN or ROLLBACK_OPERATOR_TOKEN_FILE)' });
      return;
    }
    if (authorized(creds.operatorToken, req.headers.authorization)) return next();
    deny(res, 401, 'missing or wrong operator credentials', true);
  };
}
