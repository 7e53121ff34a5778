/**
 * JSON bodies for /webhook and /simulate: 415 for another content type, 413 over the
 * limit, 400 for JSON that does not parse or holds text that is not Unicode — each with
 * a message that says so.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { loneSurrogateAt } from './well-formed.js';

/** The 400 answer for a parsed body holding a lone surrogate, or undefined when all its text is Unicode. */
export function invalidText(body: unknown): { error: string; problems: string[] } | undefined {
  const at = loneSurrogateAt(body);
  if (at === undefined) return undefined;
  return { error: 'invalid text in the JSON body', problems: [`${at}: contains a lone UTF-16 surrogate (\\uD800-\\uDFFF); strings must be valid Unicode`] };
}

/** @param optional a request without any body passes (e.g. `PUT /api/v1/freeze` with no reason). */
export function jsonBody(limitBytes: number, { optional = false } = {}): RequestHandler[] {
  const parser = express.json({ limit: limitBytes, strict: false, type: () => true });
  return [
    (req: Request, res: Response, next: NextFunction) => {
      if (optional && !req.headers['transfer-encoding'] && Number(req.headers['content-length'] ?? 0) === 0) return next();
      if (!req.is('application/json')) {
        res.status(415).json({ error: `expected Content-Type application/json, got ${req.headers['content-type'] ?? 'none'}` });
        return;
      }
      next();
    },
    (req: Request, res: Response, next: NextFunction) => {
      parser(req, res, (err?: unknown) => {
        if (!err) {
          const invalid = invalidText(req.body);
          if (!invalid) return next();
          res.status(400).json(invalid);
          return;
        }
        const e = err as { type?: string; status?: number; message?: string };
        if (e.type === 'entity.too.large') {
          res.status(413).json({ error: `body larger than the limit of ${limitBytes} bytes (server.bodyLimit)` });
        } else if (e.type === 'entity.parse.failed') {
          res.status(400).json({ error: 'malformed JSON', problems: [e.message ?? 'unparseable body'] });
        } else if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
          res.status(415).json({ error: e.message ?? 'unsupported encoding' });
        } else {
          res.status(e.status && e.status >= 400 && e.status < 500 ? e.status : 400).json({ error: e.message ?? 'unreadable body' });
        }
      });
    },
  ];
}
