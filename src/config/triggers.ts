/**
 * Turns the `rollback.triggers` list (seed entries and named triggers, mixed) into the
 * triggers the matcher evaluates. No list at all means every default trigger.
 */
import type { StrategyName } from '../model.js';
import { makeMatcher, type Matcher } from '../matching/matchers.js';
import { SEED_TRIGGER_KEYS, type TriggerEntry } from './schema.js';

export interface Trigger {
  name: string;
  matchers: Matcher[];
  strategy?: StrategyName;
  /** Seed: "2 minutes before action" for performance triggers. */
  actAfterMs: number;
  /** false = notify only (decision `disabled`). */
  automatic: boolean;
  /** The threshold the shipped alert rule uses, reported in reasons and reports. */
  threshold?: number;
  thresholdUnit?: string;
  /** Overrides `rollback.cooldownPeriod` for this trigger. */
  cooldownMs?: number;
  /** Deploy correlation: act only when the current revision went out less than this long before the alert started. */
  maxRevisionAgeMs?: number;
}

interface DefaultTrigger {
  threshold: number;
  unit: string;
  actAfterMs: number;
}

/** What `alert-rules/` emits, labelled `rollback_trigger=<name>`, with the seed's thresholds. */
export const DEFAULT_TRIGGERS: Record<string, DefaultTrigger> = {
  health_check: { threshold: 3, unit: 'consecutive failed probes', actAfterMs: 0 },
  error_rate: { threshold: 0.1, unit: 'ratio of 5xx responses over 5m', actAfterMs: 0 },
  response_time: { threshold: 5000, unit: 'ms p95 latency', actAfterMs: 120_000 },
  cpu: { threshold: 0.95, unit: 'ratio of CPU limit, sustained', actAfterMs: 120_000 },
  memory: { threshold: 0.9, unit: 'ratio of memory limit, sustained', actAfterMs: 120_000 },
};

function defaultTrigger(name: string, threshold?: number): Trigger {
  const d = DEFAULT_TRIGGERS[name];
  if (!d) throw new Error(`no default trigger ${name}`);
  return {
    name,
    matchers: [makeMatcher('rollback_trigger', '=', name)],
    actAfterMs: d.actAfterMs,
    automatic: true,
    threshold: threshold ?? d.threshold,
    thresholdUnit: d.unit,
  };
}

/**
 * Returns the triggers, or the problems (each naming the entry) when the list contradicts
 * itself. No list, or an empty one (how Helm values clear a list), means every default
 * trigger — as the chart renders the alert rules; `rollback.automatic: false` turns actions off.
 */
export function buildTriggers(entries: TriggerEntry[] | undefined): { triggers: Trigger[]; problems: string[] } {
  if (entries === undefined || entries.length === 0) {
    return { triggers: Object.keys(DEFAULT_TRIGGERS).map((n) => defaultTrigger(n)), problems: [] };
  }
  const triggers: Trigger[] = [];
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    let trigger: Trigger;
    if ('name' in entry && typeof entry.name === 'string') {
      const base = DEFAULT_TRIGGERS[entry.name] ? defaultTrigger(entry.name, entry.threshold) : undefined;
      if (!base && !entry.matchers?.length) {
        problems.push(
          `rollback.triggers[${i}]: trigger "${entry.name}" is not a default trigger (${Object.keys(DEFAULT_TRIGGERS).join(', ')}), so it needs matchers`,
        );
        return;
      }
      trigger = {
        name: entry.name,
        matchers: entry.matchers?.length ? entry.matchers : base!.matchers,
        strategy: entry.strategy,
        actAfterMs: entry.actAfter ?? base?.actAfterMs ?? 0,
        automatic: entry.automatic ?? true,
        threshold: entry.threshold ?? base?.threshold,
        thresholdUnit: base?.thresholdUnit,
        cooldownMs: entry.cooldownPeriod,
        maxRevisionAgeMs: entry.maxRevisionAge,
      };
    } else {
      const [key, value] = Object.entries(entry)[0] as [keyof typeof SEED_TRIGGER_KEYS, number];
      trigger = defaultTrigger(SEED_TRIGGER_KEYS[key], value);
    }
    if (triggers.some((t) => t.name === trigger.name)) {
      problems.push(`rollback.triggers[${i}]: trigger "${trigger.name}" is defined twice`);
      return;
    }
    triggers.push(trigger);
  });
  return { triggers, problems };
}
