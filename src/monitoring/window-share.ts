/**
 * Monitoring windows that outlive their replica (state.backend: kubernetes): the window's
 * state (start, deadline, breach and escalation state, last sample) is kept in the
 * cluster, owned by the replica that holds its Lease; when that replica dies another one
 * adopts it and samples on from the last sample taken. With SQLite there is one replica
 * and no sharing.
 */
import type { RunHold } from '../execution/executor.js';
import type { WindowRecord } from '../store/records.js';

/** A window as the cluster holds it. */
export interface SharedWindow {
  window: WindowRecord;
  /** The last sample time any owner took (ms), if any. */
  lastSampleAt: number | null;
  /** Escalation reasons already raised (each escalates once per window). */
  escalated: string[];
  /** The replica that owned it last. */
  owner: string;
}

export interface WindowShare {
  /** A window opened here: it is written to the cluster, held by this replica. */
  opened(window: WindowRecord): Promise<void>;
  /** After each sample: the state another replica would resume from. */
  sampled(state: SharedWindow): Promise<void>;
  /** Ended: the final state, and the ownership released. */
  closed(window: WindowRecord): Promise<void>;
  /** Keeps ownership while the window runs here; `lost` aborts when another replica took it. */
  hold(window: WindowRecord): RunHold;
}
