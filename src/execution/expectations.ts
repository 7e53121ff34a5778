/**
 * Compares the cluster with a plan step's expectations (strategy.ts): `done` (the step
 * took effect), `ready` (the state the pin was made on still holds: the step may be sent
 * again) or `changed` (someone else changed the object: stop, naming who from its
 * managedFields). This is what a retry or a resumed rollback does instead of planning again.
 */
import { lastChange } from '../kube/managed-fields.js';
import { canonicalJson, templateDigest } from '../kube/template-digest.js';
import { readIfExists, type Expectation, type KubeReader, type PlanStep } from './strategies/strategy.js';

interface Observed {
  metadata?: { managedFields?: never[]; name?: string; labels?: Record<string, string> };
  spec?: { template?: never; replicas?: number; selector?: Record<string, string> };
}

export type StepState = { state: 'done' } | { state: 'ready' } | { state: 'changed'; detail: string };

function fieldPath(e: Expectation): string[] {
  switch (e.field) {
    case 'json':
      return e.path;
    case 'helm-status':
      return ['metadata', 'labels'];
    case 'absent':
      return [];
    default:
      return ['spec', e.field];
  }
}

function valueAt(o: unknown, path: string[]): unknown {
  return path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), o);
}

/** `undefined`: the object does not exist. */
function holds(e: Expectation, o: Observed | undefined): boolean {
  if (e.field === 'absent') return o === undefined;
  if (o === undefined) return false;
  switch (e.field) {
    case 'template':
      return templateDigest(o.spec?.template) === e.digest;
    case 'replicas':
      return (o.spec?.replicas ?? 1) === e.value;
    case 'selector':
      return o.spec?.selector?.[e.label] === e.value;
    case 'json':
      return canonicalJson(valueAt(o, e.path)) === e.json;
    case 'helm-status':
      return e.oneOf.includes(o.metadata?.labels?.status ?? '');
  }
}

function describe(e: Expectation, o: Observed | undefined): string {
  const name = `${e.object.split('?')[0]!.split('/').slice(-2).join('/')}`;
  if (o === undefined) return `${name} does not exist`;
  const change = lastChange(o.metadata, fieldPath(e));
  const by = change ? `; last changed by ${change.manager} at ${new Date(change.at).toISOString()}` : '';
  switch (e.field) {
    case 'template':
      return `${name} runs pod template ${templateDigest(o.spec?.template)}, expected ${e.digest}${by}`;
    case 'replicas':
      return `${name} has ${o.spec?.replicas ?? 1} replicas, expected ${e.value}${by}`;
    case 'selector':
      return `${name} selects ${e.label}=${o.spec?.selector?.[e.label] ?? '(none)'}, expected ${e.value}${by}`;
    case 'json':
      return `${name} has ${e.path.join('.')} = ${canonicalJson(valueAt(o, e.path))}, expected ${e.json}${by}`;
    case 'absent':
      return `${name} still exists${by}`;
    case 'helm-status':
      return `${name} is ${o.metadata?.labels?.status ?? 'without status'}, expected ${e.oneOf.join(' or ')}${by}`;
  }
}


/** Reads each object the step names once, and says where the step stands. */
export async function stepState(step: Extract<PlanStep, { action: 'request' }>, read: KubeReader): Promise<StepState> {
  const objects = new Map<string, Observed | undefined>();
  const observe = async (path: string) => {
    if (!objects.has(path)) objects.set(path, await readIfExists<Observed>(read, path));
    return objects.get(path);
  };
  const all = async (list: Expectation[]) => {
    for (const e of list) if (!holds(e, await observe(e.object))) return e;
    return undefined;
  };
  if (step.done.length > 0 && (await all(step.done)) === undefined) return { state: 'done' };
  const broken = await all(step.guard);
  if (broken === undefined) return { state: 'ready' };
  return { state: 'changed', detail: describe(broken, objects.get(broken.object)) };
}
