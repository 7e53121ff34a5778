import { dedupKey } from '../model.js';
import type { Guard } from './guard.js';

/** 1. A resolved alert never acts; it also cancels the intent it left pending. */
export const resolvedGuard: Guard = {
  name: 'resolved',
  check({ alert, state }) {
    if (alert!.status !== 'resolved') return undefined;
    const pending = state.pending(dedupKey(alert!));
    return {
      decision: 'resolved',
      reason: pending
        ? `alert resolved; cancelled the pending intent ${pending.id} (was due ${new Date(pending.dueAt).toISOString()})`
        : 'alert resolved; nothing to do',
    };
  },
};
