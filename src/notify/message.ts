/**
 * The one place that says what a notification means: a NotificationEvent becomes a
 * channel-neutral message (what happened to what, how bad, why, where to look). Every
 * channel formats from this, so Slack, PagerDuty, the webhook and the status page
 * always tell the same story.
 */
import { pauseObject } from '../gitops/pause.js';
import type { Target } from '../model.js';
import type { DecisionRecord, RollbackRecord } from '../store/records.js';
import type { NotificationEvent, NotificationType } from './notifier.js';

export const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface MessageLink {
  text: string;
  url: string;
}

export interface MessageField {
  name: string;
  value: string;
}

export interface NotificationMessage {
  type: NotificationType;
  /** One line: what happened, to what. */
  title: string;
  severity: Severity;
  /** Why: the event's detail, the triggering alert (name, summary, description) and the decision's reason. Plain text, lines. */
  text: string;
  /** Incident report, Alertmanager, the alert's source, its runbook: only http(s) URLs. */
  links: MessageLink[];
  /** Short facts, in a stable order. */
  fields: MessageField[];
  /** The workload concerned, when there is one. */
  target: Target | null;
  rollbackId: string | null;
  trigger: string | null;
  /** True when nothing was (or will be) changed in a cluster: shadow mode or a dry-run rollback. */
  dryRun: boolean;
}

export interface MessageOptions {
  /** The receiver's external base URL: links to `/api/v1/rollbacks/:id/report`. */
  receiverUrl?: string;
  /** The service runs in dry-run (shadow) mode: every event is a shadow one. */
  serviceDryRun?: boolean;
}

/** Plain-words escalation reasons (metrics.ts ESCALATION_REASONS); unknown ones are shown as given. */
const ESCALATION_WORDS: Record<string, string> = {
  retries_exhausted: 'rollback attempts exhausted',
  verification_failed: 'rollback verification failed',
  execution_failed: 'rollback failed',
  monitoring_breach: 'still unhealthy after the rollback',
  monitoring_unknown: 'health unknown after the rollback',
};

export function eventRollback(event: NotificationEvent): RollbackRecord | undefined {
  return 'rollback' in event ? event.rollback : undefined;
}

export function eventDecision(event: NotificationEvent): DecisionRecord | undefined {
  return event.decision;
}

/** The workload the event is about, if any. */
export function eventTarget(event: NotificationEvent): Target | null {
  if (event.type === 'escalated') return { namespace: event.target.namespace, name: event.target.name };
  if (event.type === 'gitops_resumed') return { namespace: event.pause.target.namespace, name: event.pause.target.name };
  const rollback = eventRollback(event);
  if (rollback) return { namespace: rollback.namespace, name: rollback.name };
  const d = eventDecision(event);
  return d?.namespace && d.name ? { namespace: d.namespace, name: d.name } : null;
}

export function eventRollbackId(event: NotificationEvent): string | null {
  if (event.type === 'gitops_resumed') return event.pause.rollbackId;
  return eventRollback(event)?.id ?? eventDecision(event)?.rollbackId ?? null;
}

/** Shadow events: the service is in dry-run mode, or the rollback was a dry run. */
export function isDryRunEvent(event: NotificationEvent, serviceDryRun = false): boolean {
  if (serviceDryRun) return true;
  const rollback = eventRollback(event);
  if (rollback) return rollback.dryRun;
  return eventDecision(event)?.decision === 'dry_run';
}

export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Only http(s) URLs become links (Alertmanager may send empty or odd ones). */
export function httpUrl(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

export function reportUrl(receiverUrl: string | undefined, rollbackId: string | null): string | undefined {
  if (!receiverUrl || !rollbackId) return undefined;
  return `${receiverUrl.replace(/\/+$/, '')}/api/v1/rollbacks/${encodeURIComponent(rollbackId)}/report`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

function num(value: number): string {
  if (!Number.isFinite(value)) return 'unknown';
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

function key(t: Target): string {
  return `${t.namespace}/${t.name}`;
}

function how(r: RollbackRecord): string {
  return `${r.strategy}, ${r.kind}`;
}

function title(event: NotificationEvent, target: Target | null, dryRun: boolean): string {
  const what = target ? key(target) : (eventDecision(event)?.alert.labels.alertname ?? 'unknown target');
  let t: string;
  switch (event.type) {
    case 'rollback_started':
      t = `${event.rollback.kind === 'emergency' ? 'Emergency rollback' : 'Rollback'} ${dryRun ? 'planned' : 'started'}: ${what} (${how(event.rollback)})`;
      break;
    case 'rollback_succeeded':
      t = `Rollback succeeded: ${what} (${how(event.rollback)})`;
      break;
    case 'rollback_failed':
      t = `Rollback failed: ${what} (${how(event.rollback)})`;
      break;
    case 'escalated':
      t = `Escalated: ${what} needs an operator (${ESCALATION_WORDS[event.reason] ?? event.reason})`;
      break;
    case 'window_breached':
      t = `Still unhealthy after rollback: ${what} (${event.metric} ${num(event.value)} > ${num(event.threshold)})`;
      break;
    case 'recovered':
      t = `Recovered: ${what} healthy after rollback`;
      break;
    case 'brake_tripped':
      t = 'Automatic rollbacks paused: global brake tripped';
      break;
    case 'gitops_resumed':
      t = `GitOps reconciliation resumed: ${pauseObject(event.pause.pause)} (after the rollback of ${what})`;
      break;
    case 'notify_only': {
      const alertname = event.decision.alert.labels.alertname;
      t = `Needs attention (no automatic rollback): ${what}${alertname && target ? ` (${alertname})` : ''}`;
      break;
    }
  }
  return dryRun ? `[dry run] ${t}` : t;
}

function severity(event: NotificationEvent, dryRun: boolean): Severity {
  if (dryRun) return 'info';
  switch (event.type) {
    case 'rollback_started':
      return event.rollback.kind === 'emergency' ? 'critical' : 'error';
    case 'rollback_succeeded':
    case 'recovered':
      return 'info';
    case 'gitops_resumed':
      return 'warning';
    case 'rollback_failed':
    case 'escalated':
    case 'brake_tripped':
      return 'critical';
    case 'window_breached':
      return 'error';
    case 'notify_only': {
      const s = event.decision.alert.labels.severity?.toLowerCase();
      return s === 'critical' || s === 'error' || s === 'warning' || s === 'info' ? s : 'warning';
    }
  }
}

/** What the event itself says, first line of the text. */
function detail(event: NotificationEvent): string | undefined {
  switch (event.type) {
    case 'rollback_started':
      return event.rollback.reason ? `Reason: ${event.rollback.reason}` : undefined;
    case 'rollback_succeeded':
    case 'rollback_failed':
    case 'recovered':
    case 'brake_tripped':
    case 'escalated':
    case 'gitops_resumed':
      return event.detail;
    case 'window_breached':
      return `${event.metric} is ${num(event.value)}, over the threshold ${num(event.threshold)}`;
    case 'notify_only':
      return undefined;
  }
}

function alertLines(d: DecisionRecord): string[] {
  const a = d.alert;
  const name = a.labels.alertname ?? 'alert';
  const sev = a.labels.severity ? ` [${a.labels.severity}]` : '';
  const summary = a.annotations.summary?.trim();
  const lines = [`Alert ${name}${sev} ${a.status} since ${iso(a.startsAtMs)}${summary ? `: ${summary}` : ''}`];
  const description = a.annotations.description?.trim();
  if (description && description !== summary) lines.push(description);
  return lines;
}

function text(event: NotificationEvent): string {
  const lines: string[] = [];
  const first = detail(event);
  if (first) lines.push(first);
  const d = eventDecision(event);
  if (d) {
    lines.push(...alertLines(d));
    if (d.reason && !lines.some((l) => l.includes(d.reason))) lines.push(`Decision: ${d.decision}: ${d.reason}`);
  }
  return lines.join('\n');
}

function links(event: NotificationEvent, rollbackId: string | null, opts: MessageOptions): MessageLink[] {
  const out: MessageLink[] = [];
  const report = reportUrl(opts.receiverUrl, rollbackId);
  if (report) out.push({ text: 'Incident report', url: report });
  const d = eventDecision(event);
  if (d) {
    const am = httpUrl(d.group.externalURL);
    if (am) out.push({ text: 'Alertmanager', url: am });
    const source = httpUrl(d.alert.generatorURL);
    if (source) out.push({ text: 'Alert source', url: source });
    const runbook = httpUrl(d.alert.annotations.runbook_url);
    if (runbook) out.push({ text: 'Runbook', url: runbook });
  }
  return out;
}

function fields(event: NotificationEvent, target: Target | null, rollbackId: string | null, dryRun: boolean): MessageField[] {
  const out: MessageField[] = [];
  const add = (name: string, value: string | null | undefined) => {
    if (value !== undefined && value !== null && value !== '') out.push({ name, value });
  };
  const rollback = eventRollback(event);
  const d = eventDecision(event);
  add('Target', target ? key(target) : undefined);
  add('Strategy', rollback?.strategy ?? d?.strategy);
  add('Kind', rollback?.kind);
  add('Trigger', rollback?.trigger ?? d?.trigger);
  add('Alert', d?.alert.labels.alertname);
  add('Decision', d?.decision);
  if (event.type === 'escalated') add('Escalation', event.reason);
  if (event.type === 'window_breached') {
    add('Metric', event.metric);
    add('Value', num(event.value));
    add('Threshold', num(event.threshold));
  }
  add('GitOps pause', rollback?.pin?.pauses?.map(pauseObject).join(', '));
  add('Rollback', rollbackId);
  add('Mode', dryRun ? 'dry run (nothing changed)' : undefined);
  return out;
}

/** The channel-neutral message for one event. */
export function describeEvent(event: NotificationEvent, opts: MessageOptions = {}): NotificationMessage {
  const dryRun = isDryRunEvent(event, opts.serviceDryRun);
  const target = eventTarget(event);
  const rollbackId = eventRollbackId(event);
  return {
    type: event.type,
    title: title(event, target, dryRun),
    severity: severity(event, dryRun),
    text: text(event),
    links: links(event, rollbackId, opts),
    fields: fields(event, target, rollbackId, dryRun),
    target,
    rollbackId,
    trigger: eventRollback(event)?.trigger ?? eventDecision(event)?.trigger ?? null,
    dryRun,
  };
}
