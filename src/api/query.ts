/** Query-string and path validation for the API: nonsense gets a 400 naming the parameter. */
import type { Request, Response } from 'express';
import type { z } from 'zod';
import { formatIssues } from '../config/issues.js';

export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, res: Response, what: string): z.output<T> | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  res.status(400).json({ error: `invalid ${what}`, problems: formatIssues(parsed.error.issues) });
  return undefined;
}

export function queryOf(req: Request): Record<string, unknown> {
  return req.query as Record<string, unknown>;
}
