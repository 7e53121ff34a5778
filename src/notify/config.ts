/**
 * The `notifications:` config block and the builder of its channels.
 *
 *   notifications:
 *     receiverUrl: https://rollback-receiver.example.com   # links to /api/v1/rollbacks/:id/report
 *     retry: { attempts: 4, minBackoff: 1s, maxBackoff: 30s }
 *     timeout: 10s
 *     slack: { webhookUrlFile: /etc/secrets/slack, channel: "#alerts-critical" }
 *     pagerduty: { routingKeyEnv: PAGERDUTY_ROUTING_KEY }
 *     webhook: { url: https://hooks.example.com/rollbacks, headers: { X-Api-Key: { env: HOOK_KEY } } }
 *     statuspage: { url: https://status.example.com/incidents }   # token from STATUS_API_KEY
 *
 * Secrets (the Slack webhook URL, the PagerDuty routing key, the status-page token, webhook
 * header values) come from a file (`...File`, a mounted Secret), an environment variable
 * (`...Env`, each with a default name) or, discouraged, inline. They are read when the
 * channels are built; a missing one is a ConfigError naming the key. No secret value is
 * ever put in an error message or a log line. The builder is in build.ts (it needs
 * ConfigError from config/load.ts, which this schema must not import: no cycle when
 * config/schema.ts embeds it).
 */
import { z } from 'zod';
import { duration, envName, secretRef } from '../config/fields.js';
import { SEVERITIES } from './message.js';
import { NOTIFICATION_TYPES, type NotificationType } from './notifier.js';
import { PAGERDUTY_EVENTS_URL } from './pagerduty.js';
import { STATUSPAGE_STATUSES, TEMPLATE_PLACEHOLDERS, unknownPlaceholders } from './statuspage.js';

export const DEFAULT_SECRET_ENV = {
  slack: 'SLACK_WEBHOOK_URL',
  pagerduty: 'PAGERDUTY_ROUTING_KEY',
  statuspage: 'STATUS_API_KEY',
} as const;

const positiveDuration = duration.refine((ms) => ms > 0, { message: 'must be more than 0' });

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

const eventType = z.enum(NOTIFICATION_TYPES as unknown as [NotificationType, ...NotificationType[]], {
  error: `must be one of ${NOTIFICATION_TYPES.join(', ')}`,
});

/** `all`, or a non-empty list of event types. */
const events = z.union([z.literal('all'), z.array(eventType).min(1, 'list at least one event, or remove the channel')], {
  error: `must be "all" or a list of ${NOTIFICATION_TYPES.join(', ')}`,
});

const secretValue = z.union([z.string().min(1), secretRef], { error: 'must be a string or one of {value}, {env}, {file}' });
export type SecretValue = z.output<typeof secretValue>;

/** Global retry policy; channels may override any part of it. */
const retry = z.strictObject({
  attempts: z.number().int().min(1).max(20).default(4),
  minBackoff: duration.prefault('1s'),
  maxBackoff: duration.prefault('30s'),
});
export const retryOverride = z.strictObject({
  attempts: z.number().int().min(1).max(20).optional(),
  minBackoff: duration.optional(),
  maxBackoff: duration.optional(),
});

const common = {
  /** Which events the channel gets (`all` or a list). */
  events: events.optional(),
  /** Also send events about dry-run (shadow) rollbacks. */
  includeDryRun: z.boolean().optional(),
  retry: retryOverride.optional(),
  timeout: positiveDuration.optional(),
};

/** At most one of `key`, `keyFile`, `keyEnv`. */
function oneSource(key: string) {
  return (o: Record<string, unknown>, ctx: z.core.$RefinementCtx) => {
    const given = [key, `${key}File`, `${key}Env`].filter((k) => o[k] !== undefined);
    if (given.length > 1) ctx.addIssue({ code: 'custom', message: `give one of ${given.join(', ')}, not several`, path: [given[1]!] });
  };
}

const slack = z
  .strictObject({
    webhookUrl: secretValue.optional(),
    webhookUrlFile: z.string().min(1).optional(),
    webhookUrlEnv: envName.optional(),
    /** The seed's `"channel": "#alerts-critical"`. */
    channel: z.string().min(1).max(80).optional(),
    ...common,
  })
  .superRefine(oneSource('webhookUrl'));

const pagerduty = z
  .strictObject({
    routingKey: secretValue.optional(),
    routingKeyFile: z.string().min(1).optional(),
    routingKeyEnv: envName.optional(),
    url: httpUrl.default(PAGERDUTY_EVENTS_URL),
    /** rollback_started pages only for rollbacks of these triggers (default ["error_rate"]); `all` for every start. */
    startedBy: z.union([z.literal('all'), z.array(z.string().min(1))], { error: 'must be "all" or a list of trigger names' }).optional(),
    severity: z.partialRecord(eventType, z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` })).default({}),
    source: z.string().min(1).max(255).optional(),
    ...common,
  })
  .superRefine(oneSource('routingKey'));

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headers = z.record(z.string(), secretValue).superRefine((h, ctx) => {
  for (const name of Object.keys(h)) {
    if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is not a valid HTTP header name`, path: [name] });
    else if (/^(content-type|content-length|host|transfer-encoding)$/i.test(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is set by the receiver`, path: [name] });
  }
});

const webhook = z
  .strictObject({
    url: secretValue.optional(),
    urlFile: z.string().min(1).optional(),
    urlEnv: envName.optional(),
    method: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
    /** Header values: a string, or {value}/{env}/{file} for secrets. */
    headers: headers.default({}),
    ...common,
  })
  .superRefine(oneSource('url'))
  .refine((o) => o.url !== undefined || o.urlFile !== undefined || o.urlEnv !== undefined, { message: 'needs url (or urlFile / urlEnv)' });

const template = z.string().min(1).superRefine((t, ctx) => {
  const unknown = unknownPlaceholders(t);
  if (unknown.length > 0) {
    ctx.addIssue({ code: 'custom', message: `unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.map((p) => `{${p}}`).join(', ')} (known: ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})` });
  }
});

const statuspage = z
  .strictObject({
    url: httpUrl,
    token: secretValue.optional(),
    tokenFile: z.string().min(1).optional(),
    tokenEnv: envName.optional(),
    method: z.enum(['PATCH', 'POST', 'PUT']).default('PATCH'),
    /** Status per event (default: started/escalated → investigating, succeeded → monitoring, recovered → resolved). */
    status: z.partialRecord(eventType, z.enum(STATUSPAGE_STATUSES, { error: `must be one of ${STATUSPAGE_STATUSES.join(', ')}` })).default({}),
    /** Customer-facing message per event; placeholders like {name}, {title}. */
    messages: z.partialRecord(eventType, template).default({}),
    ...common,
  })
  .superRefine(oneSource('token'));

export const notificationsSchema = z
  .strictObject({
    /** The receiver's external URL: messages link to its incident reports. */
    receiverUrl: httpUrl.optional(),
    retry: retry.prefault({}),
    /** Per attempt. */
    timeout: positiveDuration.prefault('10s'),
    slack: slack.optional(),
    pagerduty: pagerduty.optional(),
    webhook: webhook.optional(),
    statuspage: statuspage.optional(),
  })
  .prefault({});

export type NotificationsConfig = z.output<typeof notificationsSchema>;
