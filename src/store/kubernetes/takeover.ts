/**
 * Rollbacks outlive the replica that started them (SPEC safety invariant 4 across
 * replicas): while a rollback runs, its replica renews its Leases (`LeaseKeeper`); if the
 * replica dies, the Leases expire and another replica's scan (`Takeover`) adopts them by
 * compare-and-swap and resumes the rollback from the cluster's state compared with the
 * pinned plan recorded in the target's ledger. A restarted container recognises the
 * Leases of its previous incarnation (same pod name) and adopts them at once instead of
 * waiting for them to expire. Leases left behind by a rollback that is no longer running
 * are deleted.
 */
import type { Logger } from 'pino';
import type { RunHold } from '../../execution/executor.js';
import type { RollbackRecord } from '../records.js';
import type { KubernetesLedger } from './kubernetes-ledger.js';
import type { SharedWindow } from '../../monitoring/window-share.js';
import type { LeaseInfo, LeaseLocks } from './leases.js';
import { windowObject } from './windows.js';

export class LeaseKeeper {
  private readonly holding = new Set<string>();

  constructor(
    private readonly locks: LeaseLocks,
    private readonly durationMs: number,
    private readonly log: Logger,
  ) {}

  /** Renews the Leases of a rollback (or window) every third of their duration until released; `lost` aborts when they are gone. */
  hold(rollback: { id: string; objects: readonly string[] }): RunHold {
    const lost = new AbortController();
    this.holding.add(rollback.id);
    const timer = setInterval(() => {
      this.locks.renew(rollback.objects, rollback.id).then(
        (held) => {
          if (!held) lost.abort();
        },
        // Unreachable for a moment: keep trying; expiry is what hands the rollback over.
        (err: Error) => this.log.warn({ rollbackId: rollback.id, err: err.message }, 'could not renew the Leases of a running rollback'),
      );
    }, Math.max(1000, Math.floor(this.durationMs / 3)));
    timer.unref();
    return {
      lost: lost.signal,
      release: () => {
        clearInterval(timer);
        this.holding.delete(rollback.id);
      },
    };
  }

  holds(rollbackId: string): boolean {
    return this.holding.has(rollbackId);
  }
}

export interface TakeoverDeps {
  locks: LeaseLocks;
  ledger: KubernetesLedger;
  keeper: LeaseKeeper;
  log: Logger;
  /** This pod's name (POD_NAME), if it runs in one: Leases held under it by another identity are its previous container's. */
  pod: string | undefined;
  intervalMs: number;
  /** Records the adopted rollback locally and resumes it. */
  resume: (rollback: RollbackRecord) => void;
  /** Monitoring windows: their shared state, and how this replica takes one over. */
  windows?: { read(id: string): Promise<SharedWindow | undefined>; adopt(shared: SharedWindow): Promise<void> };
}

export class Takeover {
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();

  constructor(private readonly deps: TakeoverDeps) {}

  start(): void {
    this.scanning = this.scan();
    this.timer = setInterval(() => {
      this.scanning = this.scanning.then(() => this.scan());
    }, this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.scanning;
  }

  /** Expired (whoever held it, this process included when it no longer runs it), or held by this host's previous incarnation. */
  private orphaned(lease: LeaseInfo): boolean {
    const { locks, pod } = this.deps;
    if (locks.expired(lease)) return true;
    return pod !== undefined && lease.holder !== locks.identity && lease.holder.split('_')[0] === pod;
  }

  /** One pass: adopt what a dead replica left running, delete what a finished one left behind. Never throws. */
  async scan(): Promise<void> {
    const { locks, ledger, keeper, log } = this.deps;
    try {
      const byRollback = new Map<string, LeaseInfo[]>();
      for (const l of await locks.list()) byRollback.set(l.rollbackId, [...(byRollback.get(l.rollbackId) ?? []), l]);
      for (const [id, leases] of byRollback) {
        if (keeper.holds(id) || !leases.every((l) => this.orphaned(l))) continue;
        if (leases[0]!.object === windowObject(id)) {
          await this.adoptWindow(id, leases);
          continue;
        }
        const slash = leases[0]!.target.indexOf('/');
        const target = { namespace: leases[0]!.target.slice(0, slash), name: leases[0]!.target.slice(slash + 1) };
        const running = (await ledger.fresh(target)).running;
        if (running?.id !== id) {
          log.info({ rollbackId: id, target: leases[0]!.target }, 'deleting Leases a finished rollback left behind');
          await locks.release(
            leases.map((l) => l.object),
            id,
          );
          continue;
        }
        if (!(await locks.adopt(leases))) continue; // another replica was faster
        log.warn({ rollbackId: id, target: leases[0]!.target, from: leases[0]!.holder }, 'taking over a rollback whose replica stopped renewing its Leases');
        this.deps.resume(running);
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'the takeover scan failed; trying again');
    }
  }

  private async adoptWindow(id: string, leases: LeaseInfo[]): Promise<void> {
    const { locks, windows, log } = this.deps;
    if (!windows) return;
    const shared = await windows.read(id);
    if (!shared || shared.window.finishedAt !== null) {
      await locks.release([windowObject(id)], id);
      return;
    }
    if (!(await locks.adopt(leases))) return;
    log.warn({ windowId: id, from: leases[0]!.holder }, 'taking over a monitoring window');
    await windows.adopt(shared);
  }
}
