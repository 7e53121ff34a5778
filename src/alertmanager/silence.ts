/**
 * Alertmanager silences (API v2) as the receiver reads them, and whether one covers an
 * alert: Alertmanager's own semantics (every matcher must match; `=~`/`!~` are anchored
 * RE2 regexes; a missing label is ""), through the same matchers the triggers use.
 */
import { makeMatcher, matchesAll, MatcherError, type Matcher } from '../matching/matchers.js';

/** `createdBy` of the silences the receiver makes itself; any other author is a person (or another tool). */
export const RECEIVER_CREATED_BY = 'rollback-receiver';

/** A matcher as API v2 spells it. */
export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  /** Absent in Alertmanager before 0.22: true. */
  isEqual?: boolean;
}

export interface Silence {
  id: string;
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  /** `active`, `pending` or `expired`. */
  state: string;
}

/** What the admission check found: the silences, or why it could not look. */
export type SilenceCheck = { ok: true; silences: Silence[] } | { ok: false; problem: string };

function compile(m: SilenceMatcher): Matcher | undefined {
  const equal = m.isEqual ?? true;
  const op = m.isRegex ? (equal ? '=~' : '!~') : equal ? '=' : '!=';
  try {
    return makeMatcher(m.name, op, m.value);
  } catch (err) {
    // A name or regex this receiver cannot evaluate (e.g. UTF-8 label names): not counted as matching.
    if (err instanceof MatcherError) return undefined;
    throw err;
  }
}

/** Whether the silence's matchers all match the labels (its state is not looked at). */
export function silenceMatches(silence: Silence, labels: Readonly<Record<string, string>>): boolean {
  if (silence.matchers.length === 0) return false;
  const compiled = silence.matchers.map(compile);
  if (compiled.some((m) => m === undefined)) return false;
  return matchesAll(compiled as Matcher[], labels);
}

/** The first active silence not made by the receiver that covers the labels. */
export function humanSilenceFor(silences: readonly Silence[], labels: Readonly<Record<string, string>>): Silence | undefined {
  return silences.find((s) => s.state === 'active' && s.createdBy !== RECEIVER_CREATED_BY && silenceMatches(s, labels));
}

/** "x=\"1\", y=~\"a|b\"" */
export function matcherText(matchers: readonly SilenceMatcher[]): string {
  return matchers.map((m) => `${m.name}${m.isEqual === false ? '!' : '='}${m.isRegex ? '~' : ''}${JSON.stringify(m.value)}`).join(', ');
}
