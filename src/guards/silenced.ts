import { humanSilenceFor, matcherText } from '../alertmanager/silence.js';
import type { Guard } from './guard.js';

/**
 * 6a. A person silenced the alert in Alertmanager: they are on it, so the receiver does
 * nothing. (Alertmanager delivers silenced alerts to nobody, but may have sent this one
 * before the silence.) The receiver's own silences do not count. When Alertmanager could
 * not be asked, the alert proceeds and its reason says so (decide.ts).
 */
export const silencedGuard: Guard = {
  name: 'silenced',
  check({ alert, silences }) {
    if (!alert || !silences?.ok) return undefined;
    const silence = humanSilenceFor(silences.silences, alert.labels);
    if (!silence) return undefined;
    return {
      decision: 'silenced',
      reason: `silenced in Alertmanager by ${silence.createdBy || 'an unnamed author'} (silence ${silence.id}, until ${silence.endsAt}${silence.comment ? `: ${silence.comment}` : ''}; matchers ${matcherText(silence.matchers)}): nothing is done`,
    };
  },
};
