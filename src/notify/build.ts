/**
 * Builds the channels of the `notifications:` block (config.ts), reading their secrets
 * now: from a file, an environment variable (each secret has a default variable name) or,
 * discouraged, inline. Every problem is reported at once as a ConfigError naming its key;
 * no message ever contains a secret value (a Slack webhook URL is itself a secret).
 */
import type { z } from 'zod';
import { secretFromEnv, secretFromFile } from '../config/secrets.js';
import { ConfigError } from '../config/load.js';
import type { ChannelDeps, ChannelSettings, HttpChannel } from './channel.js';
import { DEFAULT_SECRET_ENV, type NotificationsConfig, type SecretValue, type retryOverride } from './config.js';
import type { DeliveryPolicy } from './http.js';
import { NOTIFICATION_TYPES, type NotificationType } from './notifier.js';
import { PagerDutyNotifier } from './pagerduty.js';
import { SlackNotifier } from './slack.js';
import { DEFAULT_STATUSPAGE_MESSAGES, DEFAULT_STATUSPAGE_STATUS, StatusPageNotifier } from './statuspage.js';
import { WebhookNotifier } from './webhook.js';

type Env = Record<string, string | undefined>;

const DEFAULT_EVENTS: Record<'slack' | 'pagerduty' | 'webhook' | 'statuspage', readonly NotificationType[]> = {
  slack: NOTIFICATION_TYPES,
  webhook: NOTIFICATION_TYPES,
  pagerduty: ['rollback_started', 'escalated', 'window_breached', 'recovered'],
  statuspage: ['rollback_started', 'escalated', 'recovered'],
};
/** Shadow-mode events go to chat and webhooks, never to the pager or the customers' status page, unless asked. */
const DEFAULT_INCLUDE_DRY_RUN = { slack: true, webhook: true, pagerduty: false, statuspage: false } as const;

export interface NotifierBuildDeps extends Omit<ChannelDeps, 'receiverUrl'> {
  /** What config errors name as their source: the config file path, or "defaults". */
  source?: string;
  /** Trigger names of the config: `pagerduty.startedBy` must name some of them. */
  triggers?: readonly string[];
  /** The key the block sits under, for messages (default "notifications"). */
  key?: string;
}

type Channel = 'slack' | 'pagerduty' | 'webhook' | 'statuspage';

/** Builds the configured channels, reading their secrets now. Throws a ConfigError naming every problem's key. */
export function buildNotifiers(config: NotificationsConfig, env: Env, deps: NotifierBuildDeps): HttpChannel[] {
  const root = deps.key ?? 'notifications';
  const problems: string[] = [];
  const notifiers: HttpChannel[] = [];
  const channelDeps: ChannelDeps = {
    log: deps.log,
    clock: deps.clock,
    fetch: deps.fetch,
    serviceDryRun: deps.serviceDryRun,
    receiverUrl: config.receiverUrl?.replace(/\/+$/, ''),
  };

  const settings = (name: Channel, c: { events?: 'all' | NotificationType[]; includeDryRun?: boolean; retry?: z.output<typeof retryOverride>; timeout?: number }): ChannelSettings => {
    const policy: DeliveryPolicy = {
      attempts: c.retry?.attempts ?? config.retry.attempts,
      minBackoffMs: c.retry?.minBackoff ?? config.retry.minBackoff,
      maxBackoffMs: c.retry?.maxBackoff ?? config.retry.maxBackoff,
      timeoutMs: c.timeout ?? config.timeout,
    };
    if (policy.minBackoffMs > policy.maxBackoffMs) {
      problems.push(`${root}${c.retry ? `.${name}` : ''}.retry: minBackoff (${policy.minBackoffMs} ms) is more than maxBackoff (${policy.maxBackoffMs} ms)`);
    }
    const list = c.events === undefined ? DEFAULT_EVENTS[name] : c.events === 'all' ? NOTIFICATION_TYPES : c.events;
    return { events: new Set(list), includeDryRun: c.includeDryRun ?? DEFAULT_INCLUDE_DRY_RUN[name], policy };
  };

  const secret = (path: string, key: string, source: { inline?: SecretValue; file?: string; env?: string }, defaultEnv?: string) =>
    readSecret({ path, key, ...source, defaultEnv }, env, problems, deps);

  const s = config.slack;
  if (s) {
    const path = `${root}.slack`;
    const url = secret(path, 'webhookUrl', { inline: s.webhookUrl, file: s.webhookUrlFile, env: s.webhookUrlEnv }, DEFAULT_SECRET_ENV.slack);
    const st = settings('slack', s);
    if (url !== undefined && checkHttpUrl(url.value, `${path}.webhookUrl`, url.from, problems)) {
      notifiers.push(new SlackNotifier({ webhookUrl: url.value, channel: s.channel }, st, channelDeps));
    }
  }

  const p = config.pagerduty;
  if (p) {
    const path = `${root}.pagerduty`;
    const key = secret(path, 'routingKey', { inline: p.routingKey, file: p.routingKeyFile, env: p.routingKeyEnv }, DEFAULT_SECRET_ENV.pagerduty);
    const st = settings('pagerduty', p);
    if (Array.isArray(p.startedBy) && deps.triggers) {
      for (const t of p.startedBy) {
        if (!deps.triggers.includes(t)) problems.push(`${path}.startedBy: "${t}" is not a configured trigger (triggers: ${deps.triggers.join(', ') || 'none'})`);
      }
    }
    if (key !== undefined && /\s/.test(key.value)) problems.push(`${path}.routingKey: the value from ${key.from} contains whitespace`);
    else if (key !== undefined) {
      notifiers.push(
        new PagerDutyNotifier(
          {
            routingKey: key.value,
            url: p.url,
            startedBy: p.startedBy === 'all' ? null : (p.startedBy ?? ['error_rate']),
            severity: p.severity,
            source: p.source,
          },
          st,
          channelDeps,
        ),
      );
    }
  }

  const w = config.webhook;
  if (w) {
    const path = `${root}.webhook`;
    const url = secret(path, 'url', { inline: w.url, file: w.urlFile, env: w.urlEnv });
    const st = settings('webhook', w);
    const headers: Record<string, string> = {};
    const headerSecrets: string[] = [];
    for (const [name, value] of Object.entries(w.headers)) {
      const v = typeof value === 'string' ? { value, from: 'the config file', secret: false } : readSecretRef(`${path}.headers.${name}`, value, env, problems, deps);
      if (v === undefined) continue;
      if (/[\r\n\0]/.test(v.value)) {
        problems.push(`${path}.headers.${name}: the value from ${v.from} contains a line break`);
        continue;
      }
      headers[name] = v.value;
      if (v.secret || /^(authorization|proxy-authorization|cookie)$/i.test(name) || /key|token|secret/i.test(name)) headerSecrets.push(v.value);
    }
    if (url !== undefined && checkHttpUrl(url.value, `${path}.url`, url.from, problems)) {
      notifiers.push(
        new WebhookNotifier({ url: url.value, method: w.method, headers, secrets: [...headerSecrets, ...(url.secret ? [url.value] : [])] }, st, channelDeps),
      );
    }
  }

  const sp = config.statuspage;
  if (sp) {
    const path = `${root}.statuspage`;
    const token = secret(path, 'token', { inline: sp.token, file: sp.tokenFile, env: sp.tokenEnv }, DEFAULT_SECRET_ENV.statuspage);
    const st = settings('statuspage', sp);
    if (token !== undefined && /[\r\n\0]/.test(token.value)) problems.push(`${path}.token: the value from ${token.from} contains a line break`);
    else if (token !== undefined) {
      notifiers.push(
        new StatusPageNotifier(
          {
            url: sp.url,
            token: token.value,
            method: sp.method,
            status: { ...DEFAULT_STATUSPAGE_STATUS, ...sp.status },
            messages: { ...DEFAULT_STATUSPAGE_MESSAGES, ...sp.messages },
          },
          st,
          channelDeps,
        ),
      );
    }
  }

  if (problems.length > 0) throw new ConfigError(deps.source ?? 'notifications', problems);
  return notifiers;
}

interface Resolved {
  value: string;
  /** Where it came from, for messages: never the value. */
  from: string;
  /** False only for a plain inline string where a plain value is expected (a webhook URL, a header). */
  secret: boolean;
}

function readFileSecret(file: string, key: string, problems: string[]): string | undefined {
  const r = secretFromFile(file, key);
  if ('problem' in r) problems.push(r.problem);
  return 'value' in r ? r.value : undefined;
}

function readEnvSecret(name: string, key: string, env: Env, problems: string[]): string | undefined {
  const r = secretFromEnv(name, key, env);
  if ('problem' in r) problems.push(r.problem);
  return 'value' in r ? r.value : undefined;
}

function readSecretRef(
  key: string,
  ref: Exclude<SecretValue, string>,
  env: Env,
  problems: string[],
  deps: NotifierBuildDeps,
): Resolved | undefined {
  if (ref.file !== undefined) {
    const value = readFileSecret(ref.file, `${key}.file`, problems);
    return value === undefined ? undefined : { value, from: `file ${ref.file}`, secret: true };
  }
  if (ref.env !== undefined) {
    const value = readEnvSecret(ref.env, `${key}.env`, env, problems);
    return value === undefined ? undefined : { value, from: `environment variable ${ref.env}`, secret: true };
  }
  deps.log.warn({ key }, 'a notification secret is written inline in the config file; prefer {env} or {file}');
  return { value: ref.value!, from: 'the config file', secret: true };
}

/** One secret of a channel: `key` inline (string or {value|env|file}), `keyFile`, `keyEnv`, else the default variable. */
function readSecret(
  spec: { path: string; key: string; inline?: SecretValue; file?: string; env?: string; defaultEnv?: string },
  env: Env,
  problems: string[],
  deps: NotifierBuildDeps,
): Resolved | undefined {
  const { path, key } = spec;
  const full = `${path}.${key}`;
  if (spec.file !== undefined) {
    const value = readFileSecret(spec.file, `${full}File`, problems);
    return value === undefined ? undefined : { value, from: `file ${spec.file}`, secret: true };
  }
  if (spec.env !== undefined) {
    const value = readEnvSecret(spec.env, `${full}Env`, env, problems);
    return value === undefined ? undefined : { value, from: `environment variable ${spec.env}`, secret: true };
  }
  if (typeof spec.inline === 'string') {
    // A webhook's URL is usually not a secret; the others are.
    if (spec.defaultEnv !== undefined) {
      deps.log.warn({ key: full }, `a notification secret is written inline in the config file; prefer ${key}File or ${key}Env`);
    }
    return { value: spec.inline, from: 'the config file', secret: spec.defaultEnv !== undefined };
  }
  if (spec.inline !== undefined) return readSecretRef(full, spec.inline, env, problems, deps);
  if (spec.defaultEnv !== undefined) {
    const value = env[spec.defaultEnv]?.trim();
    if (!value) {
      problems.push(`${full}: not configured: set the environment variable ${spec.defaultEnv}, or give ${key}File or ${key}Env`);
      return undefined;
    }
    return { value, from: `environment variable ${spec.defaultEnv}`, secret: true };
  }
  problems.push(`${full}: required (give ${key}, ${key}File or ${key}Env)`);
  return undefined;
}

function checkHttpUrl(value: string, key: string, from: string, problems: string[]): boolean {
  let ok = false;
  try {
    const url = new URL(value);
    ok = url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    ok = false;
  }
  // Never echo the value: a Slack webhook URL is the secret itself.
  if (!ok) problems.push(`${key}: the value from ${from} is not an http:// or https:// URL`);
  return ok;
}
