import type { Guard } from './guard.js';

/** 4. A trigger with automatic action off only notifies. */
export const disabledGuard: Guard = {
  name: 'disabled',
  check({ intent, policy }) {
    const trigger = intent!.trigger;
    const why = !policy.enabled
      ? 'rollback.enabled is false'
      : !policy.automatic
        ? 'rollback.automatic is false'
        : !trigger.automatic
          ? `trigger ${trigger.name} has automatic: false`
          : undefined;
    return why ? { decision: 'disabled', notify: true, reason: `${why}: operators are notified, nothing is rolled back` } : undefined;
  },
};
