/**
 * Verification after a rollback: each Deployment the strategy restores must be rolled
 * out (`kubectl rollout status` semantics), then the optional HTTP health probes must
 * answer 2xx — all before the verification deadline.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../clock.js';
import { paths } from '../../kube/paths.js';
import type { Target } from '../../model.js';
import { InterruptedError } from '../interrupted.js';
import type { KubeReader } from '../strategies/strategy.js';
import { rolloutStatus, type RolloutStatus } from './rollout-status.js';

export class VerificationError extends Error {}

const POLL_MS = 500;

/** Sleeps, unless shutdown asks to stop first. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    throw new InterruptedError();
  }
}

/** Polls the Deployment until its rollout is done, has failed, or the deadline passes. */
export async function waitForRollout(read: KubeReader, target: Target, deadline: number, clock: Clock, signal?: AbortSignal): Promise<RolloutStatus> {
  let last: RolloutStatus = { state: 'waiting', message: 'not read yet' };
  for (;;) {
    if (signal?.aborted) throw new InterruptedError();
    last = rolloutStatus(await read<V1Deployment>(paths.deployment(target.namespace, target.name)));
    if (last.state === 'done') return last;
    if (last.state === 'failed') throw new VerificationError(`Deployment ${target.namespace}/${target.name}: ${last.message}`);
    if (clock.now() + POLL_MS > deadline) {
      throw new VerificationError(`Deployment ${target.namespace}/${target.name} not rolled out before the verification deadline: ${last.message}`);
    }
    await pause(POLL_MS, signal);
  }
}

export function probeUrl(template: string, target: Target): string {
  return template.replaceAll('{namespace}', encodeURIComponent(target.namespace)).replaceAll('{name}', encodeURIComponent(target.name));
}

/** GETs each probe URL until it answers 2xx, `intervalMs` apart (seed: 60 s), within the deadline. */
export async function probe(url: string, intervalMs: number, deadline: number, clock: Clock, signal?: AbortSignal): Promise<string> {
  let last = '';
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(1000, Math.min(10_000, deadline - clock.now()))) });
      await res.arrayBuffer();
      if (res.ok) return `${url} answered ${res.status}`;
      last = `${url} answered ${res.status}`;
    } catch (err) {
      last = `${url} failed: ${(err as Error).message}`;
    }
    if (clock.now() + intervalMs > deadline) throw new VerificationError(`health probe failed before the verification deadline: ${last}`);
    await pause(intervalMs, signal);
  }
}
