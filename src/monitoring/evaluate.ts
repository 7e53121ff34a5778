/**
 * What a monitoring sample means, as pure functions: over the threshold is a breach;
 * empty, NaN or an unanswered query is unknown — never healthy; enough unknowns in a
 * row escalate too.
 */
import type { SampleRecord, SampleState } from '../store/records.js';

export interface Reading {
  /** null: the query answered with no series. */
  value: number | null;
  /** Set when Prometheus could not answer. */
  error?: string;
}

export function classify(reading: Reading, threshold: number | null): { state: SampleState; detail: string } {
  if (reading.error) return { state: 'unknown', detail: `Prometheus did not answer: ${reading.error}` };
  if (reading.value === null) return { state: 'unknown', detail: 'no data (empty result)' };
  if (Number.isNaN(reading.value)) return { state: 'unknown', detail: 'NaN (no traffic to compute from?)' };
  if (threshold !== null && reading.value > threshold) return { state: 'breach', detail: `${formatValue(reading.value)} > threshold ${threshold}` };
  return { state: 'ok', detail: threshold === null ? `${formatValue(reading.value)} (observed, no threshold)` : `${formatValue(reading.value)} <= ${threshold}` };
}

export function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

/** The longest run of trailing unknown samples per metric, over samples in time order. */
export function unknownStreaks(samples: readonly SampleRecord[]): Map<string, number> {
  const streaks = new Map<string, number>();
  for (const s of samples) streaks.set(s.metric, s.state === 'unknown' ? (streaks.get(s.metric) ?? 0) + 1 : 0);
  return streaks;
}

export type Escalation = { reason: 'monitoring_breach'; sample: SampleRecord } | { reason: 'monitoring_unknown'; metric: string; count: number };

/** Whether the window must escalate after these samples (the caller escalates each reason once). */
export function escalationFor(samples: readonly SampleRecord[], latest: readonly SampleRecord[], unknownLimit: number): Escalation | undefined {
  const breach = latest.find((s) => s.state === 'breach');
  if (breach) return { reason: 'monitoring_breach', sample: breach };
  for (const [metric, count] of unknownStreaks(samples)) {
    if (count >= unknownLimit) return { reason: 'monitoring_unknown', metric, count };
  }
  return undefined;
}

/** Tick times that were due but not sampled: after `last` (or the start), up to `until`, `interval` apart. */
export function missedTicks(startedAt: number, last: number | undefined, intervalMs: number, until: number): number[] {
  const out: number[] = [];
  for (let t = (last ?? startedAt) + intervalMs; t <= until; t += intervalMs) out.push(t);
  return out;
}
