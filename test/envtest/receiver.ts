/** A receiver wired to an envtest cluster, and waiting for its rollbacks to finish. */
import request from 'supertest';
import { systemClock } from '../../src/clock.js';
import type { KubeClient } from '../../src/kube/client.js';
import { startTestService, type TestService } from '../support/service.js';
import { waitFor } from './wait.js';

export const OPERATOR = 'operator-token-for-tests';

export type Receiver = TestService<typeof systemClock>;

export interface RollbackView {
  id: string;
  status: string;
  kind: string;
  steps: { name: string; detail: string; at: string; request?: { method: string; path: string; body?: unknown } }[];
}

/** A receiver on the real clock (executors time out by it), live unless env says otherwise. */
export function startReceiver(kube: KubeClient, yaml: string, env: Record<string, string> = { ROLLBACK_DRY_RUN: 'false' }, stateDir?: string): Receiver {
  return startTestService({ yaml, env, clock: systemClock, kube, credentials: { operatorToken: OPERATOR }, stateDir });
}

export async function finished(s: Receiver, id: string, timeoutMs = 60_000): Promise<RollbackView> {
  return waitFor(
    async () => {
      const r = (await request(s.service.app).get(`/api/v1/rollbacks/${id}`).set('Authorization', `Bearer ${OPERATOR}`)).body as RollbackView;
      return r.status && r.status !== 'running' ? r : undefined;
    },
    timeoutMs,
    { description: `rollback ${id} finished`, intervalMs: 250 },
  );
}
