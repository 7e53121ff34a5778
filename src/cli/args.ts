/** Flag parsers: a bad value stops the command with a message naming it. */
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../config/duration.js';

export function portArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`"${value}" is not a port number (0-65535)`);
  return n;
}

export function urlArg(value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new InvalidArgumentError(`"${value}" is not an http(s) URL`);
  return value;
}

export function revisionArg(value: string): number {
  // 0 is `helm rollback`'s and kubectl's "the previous one".
  if (!/^(0|[1-9]\d*)$/.test(value)) throw new InvalidArgumentError(`"${value}" is not a revision number (0, 1, 2, …)`);
  return Number(value);
}

/** Seconds or a Prometheus-style duration, checked here so a typo fails before anything is sent. */
export function durationArg(value: string): number | string {
  const parsed = /^\d+$/.test(value) ? Number(value) : value;
  const ms = parseDuration(parsed);
  if (typeof ms === 'string') throw new InvalidArgumentError(ms);
  return parsed;
}
