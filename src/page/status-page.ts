/**
 * GET /: the status page SREs keep open during an incident. Server-rendered HTML, no
 * script at all (the Content-Security-Policy forbids it, so an alert label cannot run
 * one), refreshed by the browser every REFRESH_SECONDS. Read-only, behind the operator
 * token: browsers send it as the basic-auth password after the 401 challenge.
 */
import { Router } from 'express';
import { quarantineView } from '../api/quarantine.js';
import { activeCooldowns } from '../api/cooldown-view.js';
import type { ApiDeps } from '../api/deps.js';
import { statusView } from '../api/status.js';
import { formatDuration } from '../config/duration.js';
import { DECISION_MEANINGS } from '../decision-meanings.js';
import { requireOperator } from '../http/auth.js';
import type { DecisionValue } from '../model.js';
import type { DecisionRecord, RollbackRecord, WindowRecord } from '../store/records.js';
import { shortNumber, sampleChart } from './chart.js';
import { html, SafeHtml, type HtmlValue } from './html.js';
import { stageCheckpoints } from '../monitoring/stages.js';

const REFRESH_SECONDS = 10;
const RECENT_DECISIONS = 50;
const RECENT_ROLLBACKS = 20;
const FINISHED_WINDOWS = 5;
/** Rollbacks read to find the running ones: more than can run at once (execution.concurrency ≤ 64). */
const RUNNING_SCAN = 200;

const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** How a decision is coloured: acted on, held by a guard, or needing people. The rest are neutral. */
const DECISION_TONE: Partial<Record<DecisionValue, 'acted' | 'held' | 'attention'>> = {
  executed: 'acted',
  dry_run: 'acted',
  pending: 'held',
  frozen: 'held',
  silenced: 'held',
  in_progress: 'held',
  cooldown: 'held',
  rate_limited: 'attention',
  retries_exhausted: 'attention',
  refused: 'attention',
};

const STYLE = `
:root { color-scheme: light dark; --muted: #6b7280; --line: #d1d5db; --ok: #15803d; --bad: #b91c1c; --warn: #b45309; --act: #1d4ed8; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 12px; max-width: 1200px; overflow-wrap: break-word; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 20px 0 6px; border-bottom: 1px solid var(--line); padding-bottom: 2px; }
.meta, .empty { color: var(--muted); margin: 4px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.mode-dry-run { color: var(--act); } .mode-live { color: var(--bad); }
.switches { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 8px; margin: 8px 0; }
.switch { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }
.switch b { display: block; }
.on { color: var(--bad); } .off { color: var(--ok); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 4px 6px; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
.decision { font-family: ui-monospace, monospace; }
.tone-acted { color: var(--act); } .tone-held { color: var(--warn); } .tone-attention { color: var(--bad); font-weight: 600; }
.status-success, .status-recovered { color: var(--ok); } .status-failed, .status-escalated, .status-breached { color: var(--bad); } .status-running, .status-active { color: var(--act); }
.window { border: 1px solid var(--line); border-radius: 6px; padding: 8px; margin: 8px 0; }
.stages { display: flex; gap: 12px; list-style: none; padding: 0; margin: 4px 0; } .stage-passed { color: var(--ok); } .stage-breached { color: var(--bad); } .stage-pending { color: var(--act); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 8px; }
figure { margin: 0; } figcaption { font-size: 12px; color: var(--muted); }
.chart { width: 100%; height: auto; display: block; }
.chart .axis { stroke: var(--line); } .chart .series { fill: none; stroke: var(--act); stroke-width: 1.5; }
.chart .threshold { stroke: var(--bad); stroke-dasharray: 4 3; } .chart .threshold-label { fill: var(--bad); font-size: 8px; }
.chart .sample.ok { fill: var(--ok); } .chart .sample.breach { fill: var(--bad); } .chart .sample.unknown { fill: none; stroke: var(--muted); stroke-width: 1.5; }
@media (max-width: 640px) {
  table, tbody, tr, td { display: block; width: 100%; } thead { display: none; }
  tr { border-bottom: 2px solid var(--line); padding: 4px 0; } td { border: 0; padding: 2px 0; }
  td::before { content: attr(data-label) ": "; color: var(--muted); }
}
`;

function utc(ms: number): SafeHtml {
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC</time>`;
}

/** "4m12s" for a span, to the second. */
function span(ms: number): string {
  return formatDuration(Math.max(0, Math.round(ms / 1000)) * 1000);
}

function table(headers: readonly string[], rows: readonly HtmlValue[][], empty: string): SafeHtml {
  if (!rows.length) return html`<p class="empty">${empty}</p>`;
  return html`<table><thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map(
    (row) => html`<tr>${row.map((cell, i) => html`<td data-label="${headers[i]}">${cell}</td>`)}</tr>`,
  )}</tbody></table>`;
}

function reportLink(id: string): SafeHtml {
  return html`<a href="/api/v1/rollbacks/${encodeURIComponent(id)}/report">incident report</a>`;
}

function decisionBadge(decision: DecisionValue): SafeHtml {
  return html`<span class="decision tone-${DECISION_TONE[decision] ?? 'neutral'}" title="${DECISION_MEANINGS[decision].when}">${decision}</span>`;
}

function target(r: { namespace: string | null; name: string | null }): string {
  return r.namespace && r.name ? `${r.namespace}/${r.name}` : '—';
}

function switches(deps: ApiDeps, now: number): SafeHtml {
  const s = statusView(deps);
  const freeze = s.freeze.frozen
    ? html`<b class="on">frozen</b>since ${utc(Date.parse(s.freeze.since!))}${s.freeze.reason ? html`: ${s.freeze.reason}` : ''}`
    : html`<b class="off">not frozen</b>alerts may roll back`;
  const brake = s.brake.tripped
    ? html`<b class="on">tripped</b>holds ${span(Date.parse(s.brake.holdsUntil!) - now)} more; ${s.brake.recentRollbacks} of ${s.brake.max} rollbacks in ${span(s.brake.windowSeconds * 1000)}`
    : html`<b class="off">released</b>${s.brake.recentRollbacks} of ${s.brake.max} rollbacks in the last ${span(s.brake.windowSeconds * 1000)}`;
  const cluster = s.cluster.configured ? html`<b>cluster</b>${s.cluster.server}` : html`<b>no cluster</b>${s.cluster.reason}`;
  const store = s.store.ok ? html`<b class="off">store OK</b>${s.store.path}` : html`<b class="on">store failing</b>${s.store.error}`;
  return html`<section id="switches" class="switches">
<div class="switch" id="freeze">${freeze}</div>
<div class="switch" id="brake">${brake}</div>
<div class="switch">${cluster}</div>
<div class="switch">${store}${s.draining ? html`<br><b class="on">shutting down</b>` : ''}</div>
</section>`;
}

function runningRollbacks(rollbacks: readonly RollbackRecord[], now: number): SafeHtml {
  const rows = rollbacks.map((r) => {
    const step = r.steps.at(-1);
    return [
      target(r),
      r.strategy,
      r.kind,
      r.pin ? `${r.pin.from.label} → ${r.pin.to.label}` : '—',
      html`${utc(r.startedAt)} (${span(now - r.startedAt)} ago)`,
      step ? html`<b>${step.name}</b> ${step.detail}` : '—',
      reportLink(r.id),
    ];
  });
  return table(['target', 'strategy', 'kind', 'from → to', 'started', 'current step', 'report'], rows, 'No rollback is running.');
}

function recentRollbacks(rollbacks: readonly RollbackRecord[]): SafeHtml {
  const rows = rollbacks.map((r) => [
    target(r),
    html`<span class="status-${r.status}">${r.status === 'dry_run' ? 'dry-run (nothing changed)' : r.status}</span>`,
    `${r.kind}, ${r.strategy}`,
    utc(r.startedAt),
    r.reason,
    reportLink(r.id),
  ]);
  return table(['target', 'status', 'kind', 'started', 'reason', 'report'], rows, 'No rollbacks yet.');
}

function cooldowns(deps: ApiDeps, now: number): SafeHtml {
  const rows = activeCooldowns(deps.state, deps.config.rollback, now).map((c) => [
    target(c),
    c.remainingSeconds > 0 ? html`<b>${span(c.remainingSeconds * 1000)}</b> left (until ${utc(Date.parse(c.endsAt))})` : 'over',
    html`${c.attemptsInRetryWindow} of ${deps.config.rollback.maximumRetries} in ${span(deps.config.rollback.retryWindowMs)}${c.retriesExhausted ? html` <b class="on">retries exhausted</b>` : ''}`,
    utc(Date.parse(c.lastRollbackAt)),
  ]);
  return table(['target', 'cooldown', 'attempts', 'last rollback'], rows, 'No target is cooling down.');
}

function quarantine(deps: ApiDeps): SafeHtml {
  const rows = quarantineView(deps.state).map((r) => [
    html`${r.namespace}/${r.name}`,
    html`<span class="status-${r.status === 'bad' ? 'failed' : 'success'}">${r.status === 'bad' ? 'quarantined' : r.status}</span>`,
    r.label,
    html`<code>${r.revision}</code>`,
    html`${utc(Date.parse(r.since))}${r.status === 'bad' ? ' — until an operator clears it' : ''}`,
    r.rollbackId ? reportLink(r.rollbackId) : '—',
  ]);
  return table(['target', 'status', 'revision', 'id', 'since', 'report'], rows, 'No revision is quarantined or proven yet.');
}

function pendingIntents(deps: ApiDeps, now: number): SafeHtml {
  const rows = deps.state.pendingIntents().map((p) => [target(p.target), p.trigger, p.alert.labels.alertname ?? '—', html`in ${span(p.dueAt - now)} (${utc(p.dueAt)})`]);
  return table(['target', 'trigger', 'alert', 'decided again'], rows, 'No alert is waiting for its actAfter delay.');
}

function windowCard(deps: ApiDeps, w: WindowRecord, now: number): SafeHtml {
  const samples = deps.store.samples(w.id);
  // A running window is drawn up to now, so its samples spread over the chart instead of crowding the left edge.
  const drawnUntil = w.finishedAt === null ? Math.min(w.endsAt, now) : w.endsAt;
  const configured = deps.config.monitoring.metrics;
  const metrics = [...new Set([...configured.map((m) => m.name), ...samples.map((s) => s.metric)])];
  const figures = metrics.map((metric) => {
    const own = samples.filter((s) => s.metric === metric);
    const threshold = own.findLast((s) => s.threshold !== null)?.threshold ?? configured.find((m) => m.name === metric)?.threshold ?? null;
    const last = own.at(-1);
    const breaches = own.filter((s) => s.state === 'breach').length;
    const unknown = own.filter((s) => s.state === 'unknown').length;
    const caption = `${metric}: ${own.length} samples${last ? `, last ${last.value === null ? 'no data' : shortNumber(last.value)}` : ''}${threshold === null ? ', no threshold (observed only)' : `, threshold ${shortNumber(threshold)}`}${breaches ? `, ${breaches} over` : ''}${unknown ? `, ${unknown} unknown` : ''}`;
    return html`<figure>${sampleChart({ metric, samples: own, threshold, from: w.startedAt, to: drawnUntil })}<figcaption>${caption}</figcaption></figure>`;
  });
  const stages = stageCheckpoints(w, samples).map(
    (c) => html`<li class="stage-${c.status}" title="${c.detail}">stage ${c.stage} · ${span(c.offsetMs)}: ${c.status}</li>`,
  );
  // A breached window keeps sampling until it ends: running is "not finished", whatever the status.
  const when = w.finishedAt === null ? html`ends in ${span(w.endsAt - now)} (${utc(w.endsAt)})` : html`ended ${utc(w.finishedAt)}`;
  return html`<div class="window" data-window="${w.id}">
<div><b>${w.namespace}/${w.deployment}</b> <span class="badge status-${w.status}">${w.status}</span>${w.escalation ? html` escalated: ${w.escalation}` : ''}</div>
<p class="meta">opened ${utc(w.startedAt)}, every ${span(w.intervalMs)}; ${when}${w.rollbackId ? html` · after rollback ${reportLink(w.rollbackId)}` : ' · opened by an operator'}</p>
${stages.length ? html`<ol class="stages">${stages}</ol>` : ''}
<div class="charts">${figures}</div>
</div>`;
}

function windows(deps: ApiDeps, now: number): SafeHtml {
  const all = deps.store.windows();
  const shown = [...all.filter((w) => w.finishedAt === null), ...all.filter((w) => w.finishedAt !== null).slice(0, FINISHED_WINDOWS)];
  if (!shown.length) return html`<p class="empty">No monitoring window yet (one opens after every successful live rollback).</p>`;
  return html`${shown.map((w) => windowCard(deps, w, now))}`;
}

function decisions(records: readonly DecisionRecord[]): SafeHtml {
  const rows = records.map((d) => [
    utc(d.at),
    d.alert.labels.alertname ?? '—',
    target(d),
    d.trigger ?? '—',
    decisionBadge(d.decision),
    d.reason,
    d.rollbackId ? reportLink(d.rollbackId) : '',
  ]);
  return table(['decided', 'alert', 'target', 'trigger', 'decision', 'reason', 'report'], rows, 'No alert has been decided yet.');
}

function renderStatusPage(deps: ApiDeps): SafeHtml {
  const now = deps.clock.now();
  const mode = deps.config.dryRun ? 'dry-run' : 'live';
  const rollbacks = deps.store.rollbacks(RUNNING_SCAN);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>rollback-receiver (${mode})</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
<header>
<h1>rollback-receiver <span id="mode" class="badge mode-${mode}">${mode}</span></h1>
<p class="meta">${mode === 'dry-run' ? 'Dry-run (shadow) mode: every alert is decided and recorded as if rollbacks ran, but nothing in any cluster is changed.' : 'Live: rollbacks change the cluster.'} Version ${deps.version}. Shown ${utc(now)}; refreshes every ${REFRESH_SECONDS} s.</p>
</header>
${switches(deps, now)}
<section id="running"><h2>Running rollbacks</h2>${runningRollbacks(rollbacks.filter((r) => r.status === 'running'), now)}</section>
<section id="cooldowns"><h2>Cooldowns</h2>${cooldowns(deps, now)}</section>
<section id="quarantine"><h2>Quarantined and known-good revisions</h2>${quarantine(deps)}</section>
<section id="pending"><h2>Waiting to act</h2>${pendingIntents(deps, now)}</section>
<section id="windows"><h2>Monitoring windows</h2>${windows(deps, now)}</section>
<section id="decisions"><h2>Recent decisions</h2>${decisions(deps.store.decisions({ limit: RECENT_DECISIONS }))}</section>
<section id="rollbacks"><h2>Recent rollbacks</h2>${recentRollbacks(rollbacks.slice(0, RECENT_ROLLBACKS))}</section>
<footer class="meta">JSON: <a href="/api/v1/status">status</a> · <a href="/api/v1/decisions">decisions</a> · <a href="/api/v1/rollbacks">rollbacks</a> · <a href="/api/v1/openapi.json">OpenAPI</a> · <a href="/metrics">metrics</a></footer>
</body>
</html>
`;
}

export function statusPageRouter(deps: ApiDeps): Router {
  const router = Router();
  router.get('/', requireOperator(deps.credentials), async (_req, res) => {
    await deps.shared?.refreshAll();
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(renderStatusPage(deps).text);
  });
  return router;
}
