import type { Guard } from './guard.js';

/** 3. Alerts that no trigger matches are recorded and left alone. */
export const noMatchGuard: Guard = {
  name: 'no_match',
  check({ alert, intent }) {
    if (intent) return undefined;
    const name = alert!.labels.alertname ? `alert ${alert!.labels.alertname}` : 'the alert';
    return { decision: 'no_match', reason: `no trigger matches ${name}'s labels` };
  },
};
