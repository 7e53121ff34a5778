/**
 * `rollback`: the seed's `deployment-helpers.sh rollback --environment … --rollback-tag …
 * --reason …`, sent to a running receiver (which holds the per-target lock and the record).
 */
import { callReceiver } from './client.js';
import { CliError, exitWith } from './fail.js';

export interface RollbackFlags {
  url: string;
  environment?: string;
  namespace?: string;
  name?: string;
  strategy?: string;
  toRevision?: number;
  rollbackTag?: string;
  reason?: string;
  automatic?: boolean;
  detectedAt?: string;
  emergency?: boolean;
  dryRun?: boolean;
}

export async function rollbackCommand(flags: RollbackFlags): Promise<void> {
  try {
    if (!flags.environment && !(flags.namespace && flags.name)) throw new CliError('name the target: --environment E, or --namespace N --name D');
    const body = {
      environment: flags.environment,
      namespace: flags.namespace,
      name: flags.name,
      strategy: flags.strategy,
      toRevision: flags.toRevision,
      rollbackTag: flags.rollbackTag,
      reason: flags.reason,
      emergency: flags.emergency ?? false,
      automatic: flags.automatic ?? false,
      detectedAt: flags.detectedAt,
      dryRun: flags.dryRun ?? false,
    };
    const answer = await callReceiver(new URL('/api/v1/rollbacks', flags.url).toString(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  } catch (err) {
    exitWith(err);
  }
}
