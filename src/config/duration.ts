/**
 * Durations in config accept a number of seconds (the seed's `cooldownPeriod: 300`)
 * or a Prometheus-style string (`120s`, `5m`, `1h30m`), as SREs write them in rules.
 */
const YEAR_MS = 365 * 24 * 3600_000;
const UNIT_MS: Record<string, number> = {
  y: YEAR_MS,
  w: 7 * 24 * 3600_000,
  d: 24 * 3600_000,
  h: 3600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;
/**
 * Longer than any cooldown, window or retention anyone means, and small enough that
 * now + it is still a valid Date (a typo like `99999999999999d` would otherwise overflow
 * every time computed from it).
 */
export const MAX_DURATION_MS = 10 * YEAR_MS;

function capped(ms: number, shown: string): number | string {
  return ms > MAX_DURATION_MS ? `${shown} is longer than the maximum of ${formatDuration(MAX_DURATION_MS)}` : ms;
}

/** Parses a duration to milliseconds, or returns an error message. */
export function parseDuration(value: unknown): number | string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return `must be a non-negative number of seconds, got ${value}`;
    return capped(Math.round(value * 1000), `${value}s`);
  }
  if (typeof value !== 'string') return `must be seconds or a duration like "90s" or "5m", got ${typeof value}`;
  const match = DURATION.exec(value);
  if (value === '' || !match) return `"${value}" is not a duration (use seconds or forms like "90s", "5m", "1h30m")`;
  let total = 0;
  ORDER.forEach((unit, i) => {
    const n = match[i + 1];
    if (n !== undefined) total += Number(n) * (UNIT_MS[unit] ?? 0);
  });
  return capped(total, `"${value}"`);
}

/** Renders milliseconds the way Prometheus does: 1h30m, 2m, 45s, 250ms. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ORDER) {
    const size = UNIT_MS[unit] ?? 1;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
