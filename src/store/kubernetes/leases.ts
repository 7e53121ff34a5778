/**
 * One coordination.k8s.io/v1 Lease per object a rollback touches (SPEC safety invariant 1
 * across replicas). A rollback takes all its Leases in a fixed (sorted) order, each with
 * compare-and-swap (create, or update on the resourceVersion read), or none of them; it
 * renews them while it runs and deletes them when it is recorded as finished. A Lease is
 * never taken from another holder at admission, even expired: only the takeover loop
 * adopts the expired Leases of a rollback whose replica died, to resume it.
 */
import type { Clock } from '../../clock.js';
import { KubeApiError, type KubeClient } from '../../kube/client.js';
import { paths } from '../../kube/paths.js';
import type { Target } from '../../model.js';
import { KIND_LABEL, lockName, MANAGED_BY, OBJECT_ANNOTATION, ROLLBACK_ANNOTATION, TARGET_ANNOTATION } from './names.js';

export interface LeaseInfo {
  name: string;
  /** The object it locks (`Deployment:prod/api`). */
  object: string;
  holder: string;
  rollbackId: string;
  target: string;
  renewedAt: number;
  durationMs: number;
  resourceVersion: string;
}

interface LeaseObject {
  metadata: { name: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

/** MicroTime: RFC 3339 with microseconds, as the API server writes it. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const LOCK_SELECTOR = `${KIND_LABEL}=lock`;

export class LeaseLocks {
  constructor(
    private readonly kube: KubeClient,
    private readonly namespace: string,
    readonly identity: string,
    private readonly durationMs: number,
    private readonly clock: Clock,
  ) {}

  private deadline(): number {
    return this.clock.now() + 5000;
  }

  private info(l: LeaseObject): LeaseInfo {
    const a = l.metadata.annotations ?? {};
    return {
      name: l.metadata.name,
      object: a[OBJECT_ANNOTATION] ?? '',
      holder: l.spec?.holderIdentity ?? '',
      rollbackId: a[ROLLBACK_ANNOTATION] ?? '',
      target: a[TARGET_ANNOTATION] ?? '',
      renewedAt: Date.parse(l.spec?.renewTime ?? l.spec?.acquireTime ?? '') || 0,
      durationMs: (l.spec?.leaseDurationSeconds ?? 0) * 1000,
      resourceVersion: l.metadata.resourceVersion ?? '',
    };
  }

  expired(l: LeaseInfo): boolean {
    return l.renewedAt + l.durationMs < this.clock.now();
  }

  /** Every lock Lease in the namespace. */
  async list(): Promise<LeaseInfo[]> {
    const list = await this.kube.request<{ items: LeaseObject[] }>({ method: 'GET', path: paths.leases(this.namespace, LOCK_SELECTOR) }, { deadline: this.deadline() });
    return list.items.map((l) => this.info(l));
  }

  private body(object: string, rollbackId: string, target: Target, resourceVersion?: string, transitions = 0): LeaseObject & Record<string, unknown> {
    const now = microTime(this.clock.now());
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: lockName(object),
        ...(resourceVersion ? { resourceVersion } : {}),
        labels: { ...MANAGED_BY, [KIND_LABEL]: 'lock' },
        annotations: { [OBJECT_ANNOTATION]: object, [ROLLBACK_ANNOTATION]: rollbackId, [TARGET_ANNOTATION]: `${target.namespace}/${target.name}` },
      },
      spec: { holderIdentity: this.identity, leaseDurationSeconds: Math.ceil(this.durationMs / 1000), acquireTime: now, renewTime: now, leaseTransitions: transitions },
    };
  }

  /**
   * Takes every Lease of `objects` for the rollback, in sorted order, or none: false when
   * another holder has one (or wins a race for one).
   */
  async acquire(objects: readonly string[], rollbackId: string, target: Target): Promise<boolean> {
    const taken: string[] = [];
    for (const object of [...objects].sort()) {
      try {
        await this.kube.send({ method: 'POST', path: paths.leases(this.namespace), body: this.body(object, rollbackId, target) });
        taken.push(object);
      } catch (err) {
        await this.release(taken, rollbackId);
        if (err instanceof KubeApiError && err.status === 409) return false;
        throw err;
      }
    }
    return true;
  }

  /**
   * Adopts a dead holder's expired Leases for the same rollback (takeover), each by
   * compare-and-swap on the resourceVersion seen expired: false when any changed meanwhile.
   */
  async adopt(leases: readonly LeaseInfo[]): Promise<boolean> {
    for (const l of [...leases].sort((a, b) => a.object.localeCompare(b.object))) {
      const [namespace, name] = l.target.split('/');
      try {
        await this.kube.send({
          method: 'PUT',
          path: paths.lease(this.namespace, l.name),
          body: this.body(l.object, l.rollbackId, { namespace: namespace ?? '', name: name ?? '' }, l.resourceVersion, 1),
        });
      } catch (err) {
        if (err instanceof KubeApiError && (err.status === 409 || err.status === 404)) return false;
        throw err;
      }
    }
    return true;
  }

  /** Renews the rollback's Leases; false when one is gone or held by someone else (ownership lost). */
  async renew(objects: readonly string[], rollbackId: string): Promise<boolean> {
    for (const object of objects) {
      const path = paths.lease(this.namespace, lockName(object));
      let lease: LeaseObject;
      try {
        lease = await this.kube.request<LeaseObject>({ method: 'GET', path }, { deadline: this.deadline() });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 404) return false;
        throw err;
      }
      if (lease.spec?.holderIdentity !== this.identity || lease.metadata.annotations?.[ROLLBACK_ANNOTATION] !== rollbackId) return false;
      const renewed = { ...lease, spec: { ...lease.spec, renewTime: microTime(this.clock.now()) } };
      try {
        await this.kube.send({ method: 'PUT', path, body: renewed });
      } catch (err) {
        if (err instanceof KubeApiError && err.status === 409) return false;
        throw err;
      }
    }
    return true;
  }

  /** Deletes the rollback's Leases (those still its own). */
  async release(objects: readonly string[], rollbackId: string): Promise<void> {
    for (const object of objects) {
      const path = paths.lease(this.namespace, lockName(object));
      try {
        const lease = await this.kube.request<LeaseObject>({ method: 'GET', path }, { deadline: this.deadline() });
        if (lease.metadata.annotations?.[ROLLBACK_ANNOTATION] !== rollbackId) continue;
        await this.kube.send({
          method: 'DELETE',
          path,
          body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: lease.metadata.resourceVersion } },
        });
      } catch (err) {
        if (err instanceof KubeApiError && (err.status === 404 || err.status === 409)) continue;
        throw err;
      }
    }
  }
}
