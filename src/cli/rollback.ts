/**
 * `rollback`: the seed's `deployment-helpers.sh rollback --environment … --rollback-tag …
 * --reason …`, sent to a running receiver (which holds the per-target lock and the record).
 */
import { postToReceiver } from './client.js';
import { CliError, exitWith } from './fail.js';
import { print, type OutputFormat } from './output.js';

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
  output: OutputFormat;
}

interface PlanStep {
  description: string;
  method?: string;
  path?: string;
}

interface RollbackAnswer {
  id?: string;
  dryRun?: boolean;
  kind: string;
  namespace: string;
  name: string;
  strategy: string;
  status?: string;
  validation?: string | null;
  noop?: string | null;
  plan: PlanStep[];
}

/** The plan as numbered lines: the API request when there is one, else what the step waits for. */
export function planLines(plan: readonly PlanStep[]): string[] {
  if (!plan.length) return ['plan: nothing to send'];
  return ['plan:', ...plan.map((s, i) => `  ${i + 1}. ${s.method && s.path ? `${s.method} ${s.path} — ` : ''}${s.description}`)];
}

function rollbackText(a: RollbackAnswer): string {
  const what = `${a.kind} rollback of ${a.namespace}/${a.name} (${a.strategy})`;
  if (a.dryRun) {
    return [
      `dry run: ${what}; nothing was changed`,
      `validation: ${a.validation ? `FAILS: ${a.validation}` : 'ok'}`,
      ...(a.noop ? [`no-op: ${a.noop}`] : []),
      ...planLines(a.plan),
    ].join('\n');
  }
  return [`started ${what}: ${a.id} (${a.status})`, ...planLines(a.plan), `follow it: rollback-receiver report ${a.id}`].join('\n');
}

export async function rollbackCommand(flags: RollbackFlags): Promise<void> {
  try {
    if (!flags.environment && !(flags.namespace && flags.name)) throw new CliError('name the target: --environment E, or --namespace N --name D');
    const answer = (await postToReceiver(flags.url, '/api/v1/rollbacks', {
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
    })) as RollbackAnswer;
    print(flags.output, answer, rollbackText);
  } catch (err) {
    exitWith(err);
  }
}
