/**
 * The Alertmanager webhook payload, version 4, as Alertmanager really sends it: unknown
 * fields tolerated, empty generatorURL/externalURL/annotations accepted, RFC 3339 times
 * with up to nine fractional digits.
 */
import { z } from 'zod';
import type { Alert, AlertGroup } from '../model.js';
import { labelsFingerprint } from './fingerprint.js';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch for an RFC 3339 time, or undefined when it is not one. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, , mo, d, h, mi, s] = m.map(Number) as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 60) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const time = z.string().refine((t) => parseRfc3339(t) !== undefined, {
  message: 'must be an RFC 3339 time such as 2026-11-27T07:00:00.123456789Z',
});
/**
 * Label names to string values. Built by hand rather than with z.record, which drops a
 * key named `__proto__`: the alert would be decided and fingerprinted on labels other
 * than those sent. The JSON Schema is the one z.record would have.
 */
const labelSet = z
  .custom<Record<string, unknown>>((v) => v !== null && typeof v === 'object' && !Array.isArray(v), { error: 'must be an object of label names to string values' })
  .superRefine((labels, ctx) => {
    for (const [name, value] of Object.entries(labels)) {
      if (typeof value !== 'string') ctx.addIssue({ code: 'custom', path: [name], message: 'label values must be strings' });
    }
  })
  .transform((labels) => Object.fromEntries(Object.entries(labels)) as Record<string, string>)
  .meta({ type: 'object', propertyNames: { type: 'string' }, additionalProperties: { type: 'string' } });

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet,
  annotations: labelSet.nullish(),
  startsAt: time,
  endsAt: z.string().nullish(),
  generatorURL: z.string().nullish(),
  fingerprint: z.string().min(1).max(128).nullish(),
});

export const webhookPayloadSchema = z.object({
  version: z.literal('4', { error: 'must be "4" (Alertmanager webhook payload version 4)' }),
  groupKey: z.string().nullish(),
  truncatedAlerts: z.number().int().nonnegative().nullish(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelSet.nullish(),
  commonLabels: labelSet.nullish(),
  commonAnnotations: labelSet.nullish(),
  externalURL: z.string().nullish(),
  alerts: z.array(alertSchema),
});

export type WebhookPayload = z.output<typeof webhookPayloadSchema>;

export interface ParsedPayload {
  group: AlertGroup;
  alerts: Alert[];
}

/** Normalises a validated payload into the receiver's Alert model. */
export function toAlerts(payload: WebhookPayload): ParsedPayload {
  return {
    group: {
      receiver: payload.receiver,
      groupKey: payload.groupKey ?? '',
      externalURL: payload.externalURL ?? '',
      truncatedAlerts: payload.truncatedAlerts ?? 0,
    },
    alerts: payload.alerts.map((a) => ({
      fingerprint: a.fingerprint ?? labelsFingerprint(a.labels),
      status: a.status,
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: a.startsAt,
      startsAtMs: parseRfc3339(a.startsAt)!,
      endsAt: a.endsAt ?? '',
      generatorURL: a.generatorURL ?? '',
    })),
  };
}
