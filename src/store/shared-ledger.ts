/**
 * Where the ledger is shared between replicas (SPEC §4 `state.backend`). With SQLite the
 * one process is the only writer and its serialized dispatcher is the lock, so there is
 * nothing to share. With the Kubernetes backend, each decision is made on a fresh read of
 * the shared objects, and its shared effects (a rollback's start and end, quarantines,
 * escalations, resets, freeze, brake) are published with compare-and-swap and per-object
 * Leases; a replica that loses a race decides again on what the winner wrote.
 */
import type { Target } from '../model.js';
import type { Effect } from './records.js';

export interface SharedLedger {
  /** Makes the root index current for these targets, the global switches and the Leases; throws when the store cannot be read. */
  refresh(targets: readonly Target[]): Promise<void>;
  /** Makes every target's shared state current (listing views: cooldowns, quarantine). */
  refreshAll(): Promise<void>;
  /**
   * Publishes the shared effects of one decision. `conflict`: another replica changed the
   * state since the refresh (or holds a Lease): nothing was published; decide again.
   */
  publish(effects: readonly Effect[]): Promise<'ok' | 'conflict'>;
}

/** Effects that change what other replicas must see. */
export function isShared(effect: Effect): boolean {
  switch (effect.type) {
    case 'rollback':
    case 'rollback-finished':
    case 'escalation':
    case 'revision-mark':
    case 'quarantine-clear':
    case 'guard-reset':
    case 'brake-trip':
    case 'freeze':
      return true;
    default:
      return false;
  }
}
