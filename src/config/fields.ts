/** zod field types shared by every part of the config schema. */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { namespaceProblem } from '../matching/names.js';

/** Seconds (the seed's `cooldownPeriod: 300`) or a Prometheus-style string (`90s`, `5m`); parses to milliseconds. */
export const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (typeof ms === 'string') {
    ctx.addIssue({ code: 'custom', message: ms });
    return z.NEVER;
  }
  return ms;
});

export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/** A secret: exactly one of an inline value, an environment variable, or a file (a mounted Secret). */
export const secretRef = z
  .strictObject({ value: z.string().min(1).optional(), env: envName.optional(), file: z.string().min(1).optional() })
  .refine((r) => [r.value, r.env, r.file].filter((x) => x !== undefined).length === 1, { message: 'give exactly one of value, env, file' });

/** Credentials for an HTTP API the receiver calls (Prometheus, Alertmanager): a bearer token or basic auth. */
export const httpAuth = z
  .object({
    bearerToken: secretRef.optional(),
    basicAuth: z.object({ username: z.string().min(1), password: secretRef }).strict().optional(),
  })
  .strict()
  .refine((a) => !(a.bearerToken && a.basicAuth), { message: 'use bearerToken or basicAuth, not both' })
  .prefault({});
/** A valid Kubernetes namespace name. */
export const namespaceName = z.string().superRefine((ns, ctx) => {
  const problem = namespaceProblem(ns);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
