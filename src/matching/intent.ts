/**
 * Alert → rollback intent (SPEC §4): the first trigger whose matchers all match, the
 * target from labels, and the strategy from the label, the trigger, or the default.
 */
import type { Trigger } from '../config/triggers.js';
import type { Alert } from '../model.js';
import { matchesAll } from './matchers.js';

/** Labels read for the target's name, first present wins. */
export const NAME_LABELS = ['rollback_target', 'deployment', 'release', 'service'] as const;
export const DEFAULT_STRATEGY = 'deployment-undo';

export interface Intent {
  trigger: Trigger;
  namespace: string | null;
  name: string | null;
  /** The label the name came from, for reasons. */
  nameLabel: string | null;
  /** Unvalidated: a label value may name no strategy at all; the not_allowed guard checks. */
  strategy: string;
  strategySource: 'label rollback_strategy' | 'trigger' | 'default';
}

export function matchTrigger(alert: Alert, triggers: readonly Trigger[]): Trigger | undefined {
  return triggers.find((t) => matchesAll(t.matchers, alert.labels));
}

export function intentFor(alert: Alert, trigger: Trigger): Intent {
  const labels = alert.labels;
  const nameLabel = NAME_LABELS.find((l) => labels[l]) ?? null;
  const fromLabel = labels.rollback_strategy;
  return {
    trigger,
    namespace: labels.namespace || null,
    name: nameLabel ? labels[nameLabel]! : null,
    nameLabel,
    strategy: fromLabel || trigger.strategy || DEFAULT_STRATEGY,
    strategySource: fromLabel ? 'label rollback_strategy' : trigger.strategy ? 'trigger' : 'default',
  };
}
