/**
 * Monitoring windows shared between replicas: a ConfigMap per window holds its state
 * (the window record, the last sample taken, the escalations raised) and a Lease on
 * `Window:<id>` says which replica samples it. Only the Lease holder writes the state, so
 * a plain merge patch is enough; the Lease itself is taken with compare-and-swap.
 */
import type { Clock } from '../../clock.js';
import { KubeApiError, type KubeClient } from '../../kube/client.js';
import { paths } from '../../kube/paths.js';
import type { RunHold } from '../../execution/executor.js';
import type { SharedWindow, WindowShare } from '../../monitoring/window-share.js';
import type { WindowRecord } from '../records.js';
import type { LeaseLocks } from './leases.js';
import { KIND_LABEL, LEDGER_KEY, MANAGED_BY, TARGET_ANNOTATION, windowStateName } from './names.js';
import type { LeaseKeeper } from './takeover.js';

/** The Lease key of a window. */
export function windowObject(id: string): string {
  return `Window:${id}`;
}

export class KubernetesWindows implements WindowShare {
  constructor(
    private readonly kube: KubeClient,
    private readonly namespace: string,
    private readonly locks: LeaseLocks,
    private readonly keeper: LeaseKeeper,
    private readonly clock: Clock,
  ) {}

  private async write(state: SharedWindow, create: boolean): Promise<void> {
    const name = windowStateName(state.window.id);
    const data = { [LEDGER_KEY]: JSON.stringify({ ...state, owner: this.locks.identity }) };
    if (create) {
      await this.kube.send({
        method: 'POST',
        path: paths.configMaps(this.namespace),
        body: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name, labels: { ...MANAGED_BY, [KIND_LABEL]: 'window' }, annotations: { [TARGET_ANNOTATION]: `${state.window.namespace}/${state.window.name}` } },
          data,
        },
      });
      return;
    }
    await this.kube.send({ method: 'PATCH', path: paths.configMap(this.namespace, name), patchType: 'merge', body: { data } });
  }

  async opened(window: WindowRecord): Promise<void> {
    if (!(await this.locks.acquire([windowObject(window.id)], window.id, window))) throw new Error(`the Lease of window ${window.id} is held elsewhere`);
    await this.write({ window, lastSampleAt: null, escalated: [], owner: this.locks.identity }, true);
  }

  async sampled(state: SharedWindow): Promise<void> {
    await this.write(state, false);
  }

  async closed(window: WindowRecord): Promise<void> {
    const current = await this.read(window.id);
    await this.write({ window, lastSampleAt: current?.lastSampleAt ?? null, escalated: current?.escalated ?? [], owner: this.locks.identity }, false);
    await this.locks.release([windowObject(window.id)], window.id);
  }

  hold(window: WindowRecord): RunHold {
    return this.keeper.hold({ id: window.id, objects: [windowObject(window.id)] });
  }

  /** The window's state as the cluster holds it, if it exists. */
  async read(id: string): Promise<SharedWindow | undefined> {
    try {
      const cm = await this.kube.request<{ data?: Record<string, string> }>({ method: 'GET', path: paths.configMap(this.namespace, windowStateName(id)) }, { deadline: this.clock.now() + 5000 });
      const text = cm.data?.[LEDGER_KEY];
      return text ? (JSON.parse(text) as SharedWindow) : undefined;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }
}
