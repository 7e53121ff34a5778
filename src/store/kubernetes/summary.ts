/**
 * A short, read-only summary of a target's ledger on the workload itself, so `kubectl get
 * deploy api -o yaml` shows what the receiver knows: the last rollback, the cooldown, the
 * quarantined revisions. Best effort: the ledger's ConfigMap is the truth.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { KubeClient } from '../../kube/client.js';
import { paths } from '../../kube/paths.js';
import { FIELD_MANAGER } from '../../execution/strategies/strategy.js';
import type { TargetLedger } from '../ledger.js';

export const SUMMARY_ANNOTATION = 'rollback-receiver.io/state';

export function summaryText(ledger: TargetLedger, cooldownMs: number): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const parts: string[] = [];
  if (ledger.running) parts.push(`rollback ${ledger.running.id} running since ${iso(ledger.running.startedAt)}`);
  const last = ledger.attempts.filter((a) => a.end !== undefined).at(-1);
  if (last) parts.push(`last rollback ${last.id} ended ${iso(last.end!)}; cooldown until ${iso(last.end! + cooldownMs)}`);
  const bad = ledger.revisions.filter((m) => m.status === 'bad').map((m) => m.revision.label);
  if (bad.length) parts.push(`quarantined: ${bad.join(', ')}`);
  const good = ledger.revisions.filter((m) => m.status === 'known-good').map((m) => m.revision.label);
  if (good.length) parts.push(`known-good: ${good.join(', ')}`);
  return parts.join('; ').slice(0, 1000) || 'no rollbacks on record';
}

/** The API path of the object the summary goes on: the first Deployment or Service the target's rollbacks change. */
function objectPath(objectKey: string): string | undefined {
  const m = /^(Deployment|Service):([^/]+)\/(.+)$/.exec(objectKey);
  if (!m) return undefined;
  return m[1] === 'Deployment' ? paths.deployment(m[2]!, m[3]!) : paths.service(m[2]!, m[3]!);
}

export async function writeSummary(kube: KubeClient, ledger: TargetLedger, cooldownMs: number, clock: Clock, log: Logger): Promise<void> {
  const path = (ledger.objects ?? []).map(objectPath).find(Boolean);
  if (!path) return;
  try {
    await kube.send({
      method: 'PATCH',
      path: `${path}?fieldManager=${FIELD_MANAGER}`,
      patchType: 'merge',
      body: { metadata: { annotations: { [SUMMARY_ANNOTATION]: summaryText(ledger, cooldownMs) } } },
    });
  } catch (err) {
    log.debug({ path, err: (err as Error).message, at: clock.now() }, 'could not write the summary annotation');
  }
}
