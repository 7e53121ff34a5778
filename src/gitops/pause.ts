/**
 * What pausing and resuming a GitOps object sends: a JSON merge patch of one field (an
 * Argo CD Application's `spec.syncPolicy.automated` removed, a Flux object's `spec.suspend`
 * set true), with expectations on that field, so a retried or resumed rollback sees a pause
 * already in effect and never sends it twice, and a resume restores exactly what was there.
 */
import type { Expectation, PlanStep } from '../execution/strategies/strategy.js';
import { asManager } from '../execution/strategies/strategy.js';
import type { ApiRequest } from '../kube/client.js';
import { canonicalJson } from '../kube/template-digest.js';
import type { GitOpsPause } from '../model.js';

export const PAUSE_STEP_PREFIX = 'gitops-pause-';

const TOOL_NAMES: Record<GitOpsPause['tool'], string> = { argocd: 'Argo CD', flux: 'Flux' };

/** "Argo CD Application argocd/shop" */
export function pauseObject(p: Pick<GitOpsPause, 'tool' | 'kind' | 'namespace' | 'name'>): string {
  return `${TOOL_NAMES[p.tool]} ${p.kind} ${p.namespace}/${p.name}`;
}

/** `{spec: {suspend: true}}` from the field path and its value (null removes it). */
function nested(field: string[], value: unknown): Record<string, unknown> {
  return field.reduceRight<Record<string, unknown>>((inner, key, i) => ({ [key]: i === field.length - 1 ? value : inner }), {});
}

function fieldIs(p: GitOpsPause, value: unknown): Expectation {
  return { object: p.path, field: 'json', path: p.field, json: canonicalJson(value) };
}

function setField(p: GitOpsPause, value: unknown): ApiRequest {
  return { method: 'PATCH', path: asManager(p.path), patchType: 'merge', body: nested(p.field, value ?? null) };
}

/** "remove spec.syncPolicy.automated ({"selfHeal":true})" / "set spec.suspend to true" */
function change(p: GitOpsPause, value: unknown, from: unknown): string {
  const field = p.field.join('.');
  return value === null ? `remove ${field} (${canonicalJson(from)})` : `set ${field} to ${canonicalJson(value)}`;
}

export function isPauseStep(step: PlanStep): boolean {
  return step.id.startsWith(PAUSE_STEP_PREFIX);
}

/** Which of the pin's pauses a pause step sends. */
export function pauseIndex(step: PlanStep): number {
  return Number(step.id.slice(PAUSE_STEP_PREFIX.length));
}

/** The pause requests, before the strategy's: parents before the Applications they manage. */
export function pauseSteps(pauses: readonly GitOpsPause[] | undefined): PlanStep[] {
  return (pauses ?? []).map((p, i) => ({
    action: 'request',
    id: `${PAUSE_STEP_PREFIX}${i}`,
    description: `pause ${pauseObject(p)}: ${change(p, p.paused, p.before)}, restored on resume; it ${p.why}`,
    request: setField(p, p.paused),
    guard: [fieldIs(p, p.before)],
    done: [fieldIs(p, p.paused)],
  }));
}

/** The resume request: the field back to its value before the pause, sent only while the pause is still in effect. */
export function resumeStep(p: GitOpsPause): Extract<PlanStep, { action: 'request' }> {
  return {
    action: 'request',
    id: 'gitops-resume',
    description: `resume ${pauseObject(p)}: ${change(p, p.before, p.paused)}`,
    request: setField(p, p.before),
    guard: [fieldIs(p, p.paused)],
    done: [fieldIs(p, p.before)],
  };
}
