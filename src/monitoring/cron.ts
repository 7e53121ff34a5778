/**
 * Monitoring intervals as node-cron expressions (with its seconds field). Only
 * intervals that divide a minute, an hour or a day evenly can be expressed; anything
 * else is rejected at config load rather than silently drifting.
 */
export function intervalToCron(ms: number): string | { problem: string } {
  const seconds = ms / 1000;
  const bad = { problem: `${seconds}s cannot be a cron schedule: use whole seconds dividing 60, whole minutes dividing 60, or whole hours dividing 24` };
  if (!Number.isInteger(seconds) || seconds <= 0) return bad;
  if (seconds < 60) return 60 % seconds === 0 ? `*/${seconds} * * * * *` : bad;
  if (seconds % 60 !== 0) return bad;
  const minutes = seconds / 60;
  if (minutes < 60) return 60 % minutes === 0 ? `0 */${minutes} * * * *` : bad;
  if (minutes % 60 !== 0) return bad;
  const hours = minutes / 60;
  return hours <= 24 && 24 % hours === 0 ? `0 0 */${hours} * * *` : bad;
}
