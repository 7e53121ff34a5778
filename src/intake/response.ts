/** The per-alert answer of SPEC §3, shared by /webhook and /api/v1/simulate. */
import type { Decision } from '../decide.js';

export interface DecisionResponse {
  fingerprint: string;
  startsAt: string;
  trigger: string | null;
  namespace: string | null;
  name: string | null;
  strategy: string | null;
  decision: string;
  reason: string;
  rollbackId?: string;
}

export function toResponse(d: Decision): DecisionResponse {
  const r = d.record;
  return {
    fingerprint: r.alert.fingerprint,
    startsAt: r.alert.startsAt,
    trigger: r.trigger,
    namespace: r.namespace,
    name: r.name,
    strategy: r.strategy,
    decision: r.decision,
    reason: r.reason,
    ...(r.rollbackId ? { rollbackId: r.rollbackId } : {}),
  };
}
