/**
 * Checks an intent's target and strategy before any of it can reach a Kubernetes API
 * path: a namespace that is allowed, names that are valid for every object the strategy
 * derives from them, and a strategy that exists.
 */
import type { Config } from '../config/load.js';
import { objectKey, STRATEGIES, type StrategyName, type Target } from '../model.js';
import type { Intent } from './intent.js';
import { nameProblem, namespaceProblem } from './names.js';

export type TargetCheck = { ok: true; target: Target; strategy: StrategyName } | { ok: false; problem: string };

/** Names each strategy derives from the target's name (SPEC §2, names configurable). */
export function derivedSuffixes(strategy: StrategyName, execution: Config['execution']): string[] {
  switch (strategy) {
    case 'blue-green':
      return ['', ...execution.blueGreen.colors.map((c) => `-${c}`)];
    case 'scale-swap':
      return [execution.scaleSwap.currentSuffix, execution.scaleSwap.previousSuffix];
    default:
      return [''];
  }
}

/**
 * The objects a rollback of the target changes (SPEC safety invariant 1): blue-green
 * `api` is Service `api` and Deployments `api-blue`, `api-green`; scale-swap `api` is
 * `api-current` and `api-previous`; helm `api` is the release. Targets sharing an object
 * exclude each other.
 */
export function touchedObjects(target: Target, strategy: StrategyName, execution: Config['execution']): string[] {
  const { namespace, name } = target;
  switch (strategy) {
    case 'blue-green':
      return [objectKey('Service', namespace, name), ...execution.blueGreen.colors.map((c) => objectKey('Deployment', namespace, `${name}-${c}`))];
    case 'scale-swap':
      return derivedSuffixes(strategy, execution).map((s) => objectKey('Deployment', namespace, name + s));
    case 'helm':
      return [objectKey('HelmRelease', namespace, name)];
    case 'deployment-undo':
      return [objectKey('Deployment', namespace, name)];
  }
}

/**
 * `rollback.namespaces`: kube-system stays denied even when a user replaces the deny
 * list, unless it is explicitly allowed.
 */
export function namespaceAllowed(namespace: string, rules: Config['rollback']['namespaces']): string | undefined {
  if (rules.deny.includes(namespace)) return `namespace ${namespace} is denied by rollback.namespaces.deny`;
  if (namespace === 'kube-system' && !rules.allow.includes(namespace)) {
    return 'namespace kube-system is never a target unless rollback.namespaces.allow lists it';
  }
  if (rules.allow.length > 0 && !rules.allow.includes(namespace)) return `namespace ${namespace} is not in rollback.namespaces.allow`;
  return undefined;
}

export function checkTarget(intent: Intent, policy: Config['rollback'], execution: Config['execution']): TargetCheck {
  const { namespace, name } = intent;
  if (!namespace) return { ok: false, problem: 'the alert has no namespace label' };
  const nsProblem = namespaceProblem(namespace) ?? namespaceAllowed(namespace, policy.namespaces);
  if (nsProblem) return { ok: false, problem: nsProblem };
  if (!name) return { ok: false, problem: 'the alert names no workload (labels rollback_target, deployment, release or service)' };
  if (!(STRATEGIES as readonly string[]).includes(intent.strategy)) {
    return {
      ok: false,
      problem: `unknown strategy "${intent.strategy.slice(0, 60)}" from ${intent.strategySource} (known: ${STRATEGIES.join(', ')})`,
    };
  }
  const strategy = intent.strategy as StrategyName;
  for (const suffix of derivedSuffixes(strategy, execution)) {
    const problem = nameProblem(name + suffix);
    if (problem) return { ok: false, problem: `label ${intent.nameLabel}: ${problem}` };
  }
  return { ok: true, target: { namespace, name }, strategy };
}
