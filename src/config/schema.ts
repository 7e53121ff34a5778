/**
 * The configuration file (SPEC §4), validated with zod. Unknown keys are errors so a
 * typo never silently turns a guard off. The `rollback:` block accepts the seed's Helm
 * values shape unchanged; durations take seconds or Prometheus-style strings.
 */
import { z } from 'zod';
import { STRATEGIES } from '../model.js';
import { duration, httpAuth, namespaceName } from './fields.js';
import { MatcherError, parseMatcher, type Matcher } from '../matching/matchers.js';
import { notificationsSchema } from '../notify/config.js';
import { gitopsSchema } from '../gitops/config.js';
import { issueMessage } from './issues.js';

const SIZE = /^(\d+)\s*(b|kb|kib|mb|mib)?$/i;
const SIZE_UNIT: Record<string, number> = { b: 1, kb: 1000, kib: 1024, mb: 1000 * 1000, mib: 1024 * 1024 };
export const byteSize = z.union([z.number().int().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const m = SIZE.exec(value.trim());
  if (!m) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a size (use bytes or forms like "512kb", "1mb")` });
    return z.NEVER;
  }
  return Number(m[1]) * (SIZE_UNIT[(m[2] ?? 'b').toLowerCase()] ?? 1);
});

export const matcher = z.string().transform((text, ctx): Matcher => {
  try {
    return parseMatcher(text);
  } catch (err) {
    if (!(err instanceof MatcherError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
    return z.NEVER;
  }
});

export { namespaceName };

const strategy = z.enum(STRATEGIES);

/** The richer trigger form: a name, Alertmanager matchers and per-trigger policy. */
export const namedTrigger = z
  .object({
    name: z.string().regex(/^[a-zA-Z0-9_.-]+$/, 'trigger names use letters, digits, "_", "." and "-"'),
    matchers: z.array(matcher).optional(),
    strategy: strategy.optional(),
    actAfter: duration.optional(),
    automatic: z.boolean().optional(),
    threshold: z.number().optional(),
    cooldownPeriod: duration.optional(),
    maxRevisionAge: duration.optional(),
  })
  .strict();

/** The seed's Helm shape: one key per entry, each enabling a default trigger. */
export const SEED_TRIGGER_KEYS = {
  healthCheckFailures: 'health_check',
  errorRateThreshold: 'error_rate',
  responseTimeThreshold: 'response_time',
  cpuThreshold: 'cpu',
  memoryThreshold: 'memory',
} as const;
export const seedTrigger = z
  .object({
    healthCheckFailures: z.number().int().positive(),
    errorRateThreshold: z.number().positive().max(1),
    responseTimeThreshold: z.number().positive(),
    cpuThreshold: z.number().positive().max(1),
    memoryThreshold: z.number().positive().max(1),
  })
  .partial()
  .strict()
  .refine((o) => Object.keys(o).length === 1, {
    message: `a seed trigger entry has exactly one of ${Object.keys(SEED_TRIGGER_KEYS).join(', ')}`,
  });

/** An entry with a `name` is a named trigger; any other is a seed entry. */
const triggerEntry = z.unknown().transform((value, ctx): z.output<typeof namedTrigger> | z.output<typeof seedTrigger> => {
  const named = typeof value === 'object' && value !== null && 'name' in value;
  const parsed = (named ? namedTrigger : seedTrigger).safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    ctx.addIssue({ code: 'custom', message: issueMessage(issue), path: issue.path });
  }
  return z.NEVER;
});


const rollback = z
  .object({
    enabled: z.boolean().default(true),
    automatic: z.boolean().default(true),
    dryRun: z.boolean().default(true),
    triggers: z.array(triggerEntry).optional(),
    cooldownPeriod: duration.prefault(300),
    maximumRetries: z.number().int().min(1).default(5),
    retryWindow: duration.prefault(3600),
    brake: z
      .object({ max: z.number().int().min(1).default(10), window: duration.prefault(900) })
      .strict()
      .prefault({}),
    namespaces: z
      .object({ allow: z.array(namespaceName).default([]), deny: z.array(namespaceName).default(['kube-system']) })
      .strict()
      .prefault({}),
    requireOptIn: z.boolean().default(true),
    /** How long one attempt (execute + verify) may take, transient retries included. */
    executionTimeout: duration.prefault(600),
    /** Targets read from the cluster for one webhook payload at most; alerts for further targets are refused. */
    maxTargetsPerPayload: z.number().int().min(1).max(1000).default(50),
    /** Pending intents found overdue at start wait this long, so Alertmanager can deliver a resolution it retried meanwhile. */
    startupGrace: duration.prefault(60),
  })
  .strict();

export const SEED_METRICS = ['error_rate', 'response_time', 'cpu_usage', 'memory_usage'] as const;

const metricName = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'metric names are lower_snake_case');

const monitoring = z
  .object({
    enhanced: z
      .object({
        enabled: z.boolean().default(true),
        duration: duration.prefault(1800),
        interval: duration.prefault(60),
        metrics: z.array(metricName).default([...SEED_METRICS]),
        /** The seed's units: error_rate a ratio, response_time milliseconds; cpu/memory a ratio of the limit. */
        alert_thresholds: z.record(metricName, z.number().nonnegative()).default({}),
        /** PromQL per metric; {namespace}, {name} and {window} are filled in (values escaped). */
        queries: z.record(metricName, z.string().min(1)).default({}),
        rateWindow: duration.prefault('5m'),
        /** The shortest range a sample may use (at least two scrape intervals): early samples only look back this far. */
        minRateWindow: duration.prefault('1m'),
        prometheusUrl: z.url().optional(),
        timeout: duration.prefault(10),
        auth: httpAuth,
        /** This many unknown samples in a row (empty, NaN, Prometheus unreachable) escalate. */
        unknownLimit: z.number().int().min(1).default(3),
        /** Also watch targets whose rollback escalated. */
        afterEscalation: z.boolean().default(false),
        /** Stage checkpoints into the window (the seed's restoration stages); default 5m, 10m, 15m, 20m. */
        stages: z.array(duration).max(20).optional(),
      })
      .strict()
      .prefault({}),
    /** The reverted signal (`rollback_target_reverted`): how often rolled-back targets are compared with the cluster. */
    reverted: z.object({ checkInterval: duration.prefault(60) }).strict().prefault({}),
  })
  .strict()
  .prefault({});

const execution = z
  .object({
    /** Rollbacks executing at once across all targets. */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** How long verification (rollout complete + probes) may take before escalating. */
    verifyTimeout: duration.prefault(300),
    /** Optional HTTP health probes after the rollout; `{namespace}` and `{name}` are filled in. */
    probes: z
      .object({
        urls: z.array(z.string().min(1)).default([]),
        interval: duration.prefault(60),
      })
      .strict()
      .prefault({}),
    blueGreen: z
      .object({
        label: z.string().regex(/^[a-zA-Z0-9_./-]+$/).default('color'),
        colors: z.tuple([z.string().min(1), z.string().min(1)]).default(['blue', 'green']),
      })
      .strict()
      .prefault({}),
    scaleSwap: z
      .object({ currentSuffix: z.string().min(1).default('-current'), previousSuffix: z.string().min(1).default('-previous') })
      .strict()
      .prefault({}),
  })
  .strict();

export const configFileSchema = z
  .object({
    server: z
      .object({
        port: z.number().int().min(1).max(65535).optional(),
        bodyLimit: byteSize.prefault(1024 * 1024),
        tls: z.object({ certFile: z.string().min(1), keyFile: z.string().min(1) }).strict().optional(),
      })
      .strict()
      .prefault({}),
    auth: z.object({ allowUnauthenticatedWebhook: z.boolean().default(false) }).strict().prefault({}),
    store: z
      .object({ dir: z.string().min(1).optional(), retention: duration.prefault('7d') })
      .strict()
      .prefault({}),
    /**
     * Where the guards' state lives (SPEC §4): `sqlite` (one replica, the embedded file) or
     * `kubernetes` (replicas share it through Leases and ConfigMaps in `namespace`; each
     * keeps its own decision records in the local SQLite file).
     */
    state: z
      .object({
        backend: z.enum(['sqlite', 'kubernetes']).default('sqlite'),
        namespace: namespaceName.optional(),
        /** How long a Lease holds without renewal before another replica takes the rollback over. */
        leaseDuration: duration.prefault('15s'),
      })
      .strict()
      .prefault({}),
    rollback: rollback.prefault({}),
    /** Environment names (the seed's `--environment production`) mapped to a namespace, or to a namespace and workload. */
    environments: z
      .record(
        z.string().min(1),
        z.union([namespaceName, z.object({ namespace: namespaceName, name: z.string().min(1).optional(), strategy: strategy.optional() }).strict()]),
      )
      .default({}),
    execution: execution.prefault({}),
    gitops: gitopsSchema,
    notifications: notificationsSchema,
    report: z
      .object({
        /** The seed's escalation table, printed in every incident report. */
        escalationContacts: z
          .array(z.object({ role: z.string().min(1), contact: z.string().min(1), availability: z.string().default('') }).strict())
          .default([]),
      })
      .strict()
      .prefault({}),
    monitoring,
    /** Alertmanager's API (SPEC §4): the human-silence check at admission, and the receiver's own silences. */
    alertmanager: z
      .object({
        url: z.url(),
        auth: httpAuth,
        /** How long the admission check waits for Alertmanager before proceeding without it. */
        timeout: duration.prefault('2s'),
        /** Silence the target's rollback alerts during verification and the monitoring window. */
        silenceDuringWindow: z.boolean().default(false),
      })
      .strict()
      .optional(),
    shutdown: z
      .object({
        /** How long SIGTERM waits for in-flight rollbacks to reach a safe point (the chart's terminationGracePeriodSeconds adds a margin). */
        grace: duration.prefault(60),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ConfigFile = z.output<typeof configFileSchema>;
export type TriggerEntry = z.output<typeof triggerEntry>;
export type NamedTriggerEntry = z.output<typeof namedTrigger>;
