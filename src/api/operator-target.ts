/**
 * The target of an operator request: `namespace` + `name`, or an `environment` from the
 * config (the seed's `--environment production`), checked like every other target
 * before it can reach the Kubernetes API.
 */
import type { Config } from '../config/load.js';
import { nameProblem, namespaceProblem } from '../matching/names.js';
import { derivedSuffixes, namespaceAllowed } from '../matching/target.js';
import type { StrategyName, Target } from '../model.js';

export type OperatorTarget = { ok: true; target: Target; strategy: StrategyName } | { ok: false; problem: string };

export function operatorTarget(
  body: { environment?: string; namespace?: string; name?: string; strategy?: StrategyName },
  config: Pick<Config, 'environments' | 'rollback' | 'execution'>,
): OperatorTarget {
  // Own keys only: "constructor" or "__proto__" is not an environment.
  const env = body.environment !== undefined && Object.hasOwn(config.environments, body.environment) ? config.environments[body.environment] : undefined;
  if (body.environment !== undefined && !env) {
    return { ok: false, problem: `unknown environment "${body.environment}" (configured: ${Object.keys(config.environments).join(', ') || 'none'})` };
  }
  const namespace = body.namespace ?? env?.namespace;
  const name = body.name ?? env?.name;
  const strategy = body.strategy ?? env?.strategy ?? 'deployment-undo';
  if (!namespace || !name) return { ok: false, problem: 'name the target: namespace and name, or an environment that maps to both' };
  const problem =
    namespaceProblem(namespace) ??
    namespaceAllowed(namespace, config.rollback.namespaces) ??
    derivedSuffixes(strategy, config.execution).map((s) => nameProblem(name + s)).find(Boolean);
  return problem ? { ok: false, problem } : { ok: true, target: { namespace, name }, strategy };
}
