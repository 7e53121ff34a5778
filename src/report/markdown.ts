/**
 * The incident report of one rollback, in Markdown, after the seed's template:
 * summary, the alerts that triggered it, the triggering metric over the hour before,
 * the timeline, impact and recovery time against the seed's RTOs, state before and
 * after, resolution, escalation contacts, and the questions people must answer.
 * Pure: everything it shows is passed in.
 */
import { formatDuration } from '../config/duration.js';
import type { RollbackKind } from '../model.js';
import type { DecisionRecord, GitOpsPauseRecord, RevisionMark, RollbackRecord, SampleRecord, WindowRecord } from '../store/records.js';
import { pauseObject } from '../gitops/pause.js';
import { stageCheckpoints } from '../monitoring/stages.js';

/** Recovery Time Objectives from the seed. */
export const RTO_MS: Record<RollbackKind, number> = { automatic: 5 * 60_000, manual: 15 * 60_000, emergency: 2 * 60_000 };

export interface Contact {
  role: string;
  contact: string;
  availability: string;
}

export interface MetricHistory {
  query: string;
  /** Points of the (first) series, oldest first; empty when Prometheus had none. */
  points: { at: number; value: number }[];
  error?: string;
}

export interface ReportInput {
  rollback: RollbackRecord;
  /** The decision that started it (automatic rollbacks). */
  decision?: DecisionRecord;
  /** The pending decision that preceded it, when the trigger had actAfter. */
  pending?: DecisionRecord;
  window?: { window: WindowRecord; samples: SampleRecord[] };
  history?: MetricHistory;
  contacts: Contact[];
  generatedAt: number;
  reportUrl?: string;
  /** What the ledger says now of the revisions the rollback went from and to. */
  marks?: { from?: RevisionMark; to?: RevisionMark };
  /** The GitOps pauses it made, as on record now (resumed or not). */
  pauses?: GitOpsPauseRecord[];
}

function markText(mark: RevisionMark | undefined): string {
  if (!mark) return 'no longer on record';
  switch (mark.status) {
    case 'bad':
      return `quarantined since ${iso(mark.since)}: never an automatic destination until an operator clears it`;
    case 'installed':
      return `installed by the receiver at ${iso(mark.since)}, not yet proven by a monitoring window`;
    case 'known-good':
      return `known-good since ${iso(mark.since)} (passed a monitoring window)`;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const SPARK = '▁▂▃▄▅▆▇█';

export function sparkline(values: number[]): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return '';
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  return values
    .map((v) => (Number.isFinite(v) ? SPARK[max === min ? 0 : Math.round(((v - min) / (max - min)) * (SPARK.length - 1))] : ' '))
    .join('');
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

/** Escapes what would break a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** When the rollback was verified: rollout complete and every health probe answered. */
function verifiedAt(r: RollbackRecord): number | undefined {
  return r.status === 'success' ? (r.finishedAt ?? undefined) : undefined;
}

export function renderReport(input: ReportInput): string {
  const { rollback: r, decision, window: w } = input;
  const alert = decision?.alert;
  const target = `${r.namespace}/${r.name}`;
  const verified = verifiedAt(r);
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);

  push(`# Incident Report: Rollback ${r.id}`, '');
  push('## Summary', '');
  push(`- Target: ${target} (strategy ${r.strategy}, ${r.kind}${r.dryRun ? ', dry-run: nothing was changed' : ''})`);
  push(`- Result: ${r.status}${w ? `; monitoring window ${w.window.status}` : ''}`);
  push(`- Reason: ${r.reason}`);
  if (alert) push(`- Incident Start: ${alert.startsAt} (alert ${alert.labels.alertname ?? '?'} started firing)`);
  push(`- Rollback Time: ${iso(r.startedAt)}`);
  if (alert && verified !== undefined) push(`- Impact Duration: ${formatDuration(verified - alert.startsAtMs)} (alert start to verified rollback)`);
  if (verified !== undefined) {
    const took = verified - r.startedAt;
    const rto = RTO_MS[r.kind];
    push(`- Recovery Time: ${formatDuration(took)} against the ${r.kind} RTO of ${formatDuration(rto)}: ${took <= rto ? 'met' : 'MISSED'}`);
  } else if (!r.dryRun) {
    push(`- Recovery Time: not recovered by the rollback (${r.status}); RTO ${formatDuration(RTO_MS[r.kind])} for ${r.kind} rollbacks`);
  }
  if (input.reportUrl) push(`- This report: ${input.reportUrl}`);
  push('');

  if (r.pin) {
    push('## Revisions', '');
    push(`- Rolled away from: ${r.pin.from.label} (\`${r.pin.from.id}\`) — now ${markText(input.marks?.from)}`);
    push(`- Restored: ${r.pin.to.label} (\`${r.pin.to.id}\`) — ${r.pin.note} when chosen; now ${markText(input.marks?.to)}`, '');
  }

  if (r.pin?.pauses?.length) {
    push('## GitOps Pause', '');
    r.pin.pauses.forEach((p, i) => {
      const record = input.pauses?.find((x) => x.id === `${r.id}-${i}`);
      const now = record
        ? record.status === 'resumed'
          ? `resumed ${iso(record.resumedAt!)} (${record.resumedBy})`
          : `paused since ${iso(record.pausedAt)}: resume with \`rollback-receiver gitops resume ${record.id}\``
        : r.dryRun
          ? 'would be paused (dry run)'
          : 'not paused (the rollback stopped before)';
      push(`- ${pauseObject(p)} (${p.why}): \`${p.field.join('.')}\` was \`${JSON.stringify(p.before)}\` — ${now}`);
    });
    push('');
  }

  push('## Triggering Alerts', '');
  if (!decision || !alert) {
    push(`None: an operator requested this ${r.kind} rollback.`, '');
  } else {
    push(`- **${alert.labels.alertname ?? 'alert'}** (${alert.status}, fingerprint ${alert.fingerprint}), trigger \`${decision.trigger}\``);
    push(`  - Labels: ${Object.entries(alert.labels).map(([k, v]) => `\`${k}="${v}"\``).join(', ')}`);
    for (const [k, v] of Object.entries(alert.annotations)) push(`  - ${k}: ${v}`);
    if (alert.generatorURL) push(`  - Source: ${alert.generatorURL}`);
    if (decision.group.externalURL) push(`  - Alertmanager: ${decision.group.externalURL}`);
    push(`  - Decision: ${decision.decision} — ${decision.reason}`, '');
  }

  push('## Triggering Metric (the hour before)', '');
  const h = input.history;
  if (!h) push("No query: the trigger has no monitoring metric in the configuration (the alert's own expression is linked under Source; the receiver never runs PromQL taken from an alert).", '');
  else {
    push('```promql', h.query, '```', '');
    if (h.error) push(`Prometheus could not answer: ${h.error}`, '');
    else if (h.points.length === 0) push('No data in that hour.', '');
    else {
      const values = h.points.map((p) => p.value);
      const finite = values.filter(Number.isFinite);
      push(`\`${sparkline(values)}\``, '');
      push(
        `${iso(h.points[0]!.at)} → ${iso(h.points.at(-1)!.at)}: min ${finite.length ? num(Math.min(...finite)) : 'n/a'}, max ${finite.length ? num(Math.max(...finite)) : 'n/a'}, last ${num(values.at(-1)!)}`,
        '',
      );
    }
  }

  push('## Timeline', '', '| time | event |', '|---|---|');
  const events: [number, string][] = [];
  if (alert) events.push([alert.startsAtMs, `alert ${alert.labels.alertname ?? ''} started firing`]);
  if (input.pending) events.push([input.pending.at, `webhook received; decision pending — ${input.pending.reason}`]);
  if (decision) events.push([decision.at, `${input.pending ? 'decided again' : 'webhook received'}; decision ${decision.decision}`]);
  for (const s of r.steps) {
    const req = s.request ? ` — \`${s.request.method} ${s.request.path.split('?')[0]}\`` : '';
    events.push([s.at, `${s.name}: ${s.name === 'inspected' ? 'state read' : s.detail}${req}`]);
  }
  if (r.finishedAt !== null) events.push([r.finishedAt, `rollback finished: ${r.status}`]);
  if (w) {
    events.push([w.window.startedAt, `monitoring window opened (until ${iso(w.window.endsAt)})`]);
    const byTime = new Map<number, SampleRecord[]>();
    for (const s of w.samples) byTime.set(s.at, [...(byTime.get(s.at) ?? []), s]);
    for (const [at, samples] of byTime) {
      events.push([at, `sample: ${samples.map((s) => `${s.metric} ${s.value === null ? 'no data' : num(s.value)} (${s.state})`).join(', ')}`]);
    }
    for (const c of stageCheckpoints(w.window, w.samples)) {
      if (c.status !== 'pending' && c.status !== 'not-reached') events.push([c.at, `stage ${c.stage} checkpoint (${formatDuration(c.offsetMs)}): ${c.status} — ${c.detail}`]);
    }
    if (w.window.finishedAt !== null) events.push([w.window.finishedAt, `monitoring window ended: ${w.window.status}`]);
  }
  events.sort((a, b) => a[0] - b[0]);
  for (const [at, text] of events) push(`| ${iso(at)} | ${cell(text)} |`);
  push('');

  push('## State Before and After', '');
  const before = r.steps.find((s) => s.name === 'inspected');
  push(`- Before: ${before ? `\`${before.detail}\`` : 'not recorded'}`);
  const after = r.steps.filter((s) => s.name === 'verified' || s.name === 'probe');
  push(`- After: ${after.length ? after.map((s) => s.detail).join('; ') : r.status === 'success' ? 'rolled out' : `not verified (${r.status})`}`, '');

  push('## Resolution', '');
  const requests = r.steps.filter((s) => s.request);
  if (r.dryRun) push(`Dry-run: would have rolled back ${target} with ${r.strategy}; ${requests.length} request(s) planned.`);
  else push(`Rolled back ${target} with ${r.strategy} (${requests.length} API request(s)); result ${r.status}.`);
  const failure = r.steps.find((s) => s.name === 'failed' || s.name === 'verification-failed');
  if (failure) push(`Escalated to manual intervention: ${failure.detail}`);
  for (const note of r.steps.filter((s) => s.name === 'note')) push(`Note: ${note.detail}.`);
  if (w) {
    const breaches = w.samples.filter((s) => s.state === 'breach').length;
    const unknown = w.samples.filter((s) => s.state === 'unknown').length;
    push(`Monitoring: ${w.window.status}; ${w.samples.length} sample(s), ${breaches} breach(es), ${unknown} unknown.`);
    const stages = stageCheckpoints(w.window, w.samples);
    if (stages.length) push('', `Stages: ${stages.map((c) => `${c.stage} (${formatDuration(c.offsetMs)}) ${c.status}`).join(', ')}.`);
    if (w.window.note) push('', `Sample history is split between replicas: ${w.window.note}.`);
  }
  push('');

  push('## Escalation Contacts', '');
  if (input.contacts.length === 0) push('None configured (report.escalationContacts).', '');
  else {
    push('| Role | Contact | Availability |', '|---|---|---|');
    for (const c of input.contacts) push(`| ${cell(c.role)} | ${cell(c.contact)} | ${cell(c.availability)} |`);
    push('');
  }

  push('## Root Cause', '', '_To be filled in by the incident owner._', '');
  push('## Impact Assessment', '', '- Affected user segments: _to be filled in_', '- Data loss or corruption: _to be filled in_', '- Business impact: _to be filled in_', '');
  push('## Prevention', '', '_To be filled in: what would have caught this before production?_', '');
  push(`---`, `Generated by rollback-receiver at ${iso(input.generatedAt)}.`, '');
  return lines.join('\n');
}
