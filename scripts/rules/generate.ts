/**
 * One source of truth for the alert rules: alert-rules/*.rules.yml (plain Prometheus rule
 * files, what promtool and a plain Prometheus read) are turned into
 *
 *   alert-rules/prometheusrule.yaml                    a PrometheusRule, default values
 *   helm/rollback-receiver/templates/prometheusrule.yaml   the same as a Helm template
 *
 *   npx tsx scripts/rules/generate.ts           write both
 *   npx tsx scripts/rules/generate.ts --check   exit 1 when either differs from the sources
 *
 * In the Helm template:
 * - it is rendered only when prometheusRule.enabled and the cluster serves the
 *   PrometheusRule CRD (monitoring.coreos.com/v1/PrometheusRule);
 * - a trigger alert (label rollback_trigger) is rendered only when its seed trigger is
 *   enabled in `.Values.rollback.triggers` (include "rollback-receiver.triggerEnabled");
 *   a group only when one of its alerts is;
 * - the number on an expr line marked `# threshold: <seedKey>` becomes
 *   include "rollback-receiver.threshold" (list . "<seedKey>" "<default>"), the default being
 *   the source's number in the values' unit (responseTimeThreshold: milliseconds in values,
 *   seconds in the rule, so it renders `{{ divf (include ...) 1000 }}`);
 * - the numbers on a line marked `# param: <name>[, <name>...]` become
 *   include "rollback-receiver.ruleParam" (list . "<name>"), in order (values under
 *   prometheusRule, see RULE_PARAMS);
 * - the lines between `# pod owner: begin` and `# pod owner: end` are kept when
 *   prometheusRule.podOwnerRule is empty and replaced by a read of that
 *   kube-prometheus-stack recording rule otherwise;
 * - the receiver rules' job matcher `job=~".*rollback-receiver.*"` becomes the release's own
 *   job and namespace;
 * - every alert gets `runbook_url: <prometheusRule.runbookUrl>#<alert name in lower case>`
 *   when that value is set, and none otherwise (the sources carry none);
 * - every `{{` / `}}` of the sources (Prometheus templates in annotations) is escaped for
 *   Helm as {{ "{{" }} / {{ "}}" }}, so Prometheus gets them unchanged.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { SEED_TRIGGER_KEYS } from '../../src/config/schema.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const SOURCES = {
  triggers: 'alert-rules/rollback-triggers.rules.yml',
  receiver: 'alert-rules/rollback-receiver.rules.yml',
} as const;

export const OUTPUTS = {
  plain: 'alert-rules/prometheusrule.yaml',
  helm: 'helm/rollback-receiver/templates/prometheusrule.yaml',
} as const;

/** The seed's Helm trigger keys, in the order the templates test them. */
export type SeedKey = keyof typeof SEED_TRIGGER_KEYS;
export const SEED_KEYS = Object.keys(SEED_TRIGGER_KEYS) as SeedKey[];

/**
 * Numbers of the rules that the chart computes from its values (`# param:` markers), each
 * rendered by the helper "rollback-receiver.ruleParam" in _helpers.tpl:
 *   minRequestRate        prometheusRule.minRequestRate (requests per second)
 *   probeIntervalSeconds  prometheusRule.probeInterval, in seconds
 *   healthCheckWindow     max(4, healthCheckFailures + 1) probe intervals, as a duration
 *   healthCheckStep       a quarter of the probe interval, as a duration
 *   stuckRollbackSeconds  rollback.executionTimeout + 5 minutes, in seconds
 *   revertedSeconds       prometheusRule.revertedFor, in seconds
 */
export const RULE_PARAMS = ['minRequestRate', 'probeIntervalSeconds', 'healthCheckWindow', 'healthCheckStep', 'stuckRollbackSeconds', 'revertedSeconds'] as const;
export type RuleParam = (typeof RULE_PARAMS)[number];

/** The scrape-job matcher every receiver rule uses; the Helm template scopes it to the release. */
export const RECEIVER_JOB_MATCHER = 'job=~".*rollback-receiver.*"';

/**
 * Receiver metrics whose `namespace` label is the rolled-back workload's (the chart's
 * ServiceMonitor honours it): the chart scopes their selectors by job only, as the
 * release namespace would not match them.
 */
export const TARGET_LABELLED_METRICS = ['rollback_target_reverted', 'rollback_last_success_timestamp_seconds', 'rollback_cooldown_active'] as const;

/** Replaces the receiver job matcher: with `scoped` (job and release namespace), or `jobOnly` on TARGET_LABELLED_METRICS. */
export function scopeReceiverSelectors(expr: string, scoped: string, jobOnly: string): string {
  const targetLabelled = TARGET_LABELLED_METRICS.reduce((e, metric) => e.split(`${metric}{${RECEIVER_JOB_MATCHER}}`).join(`${metric}{${jobOnly}}`), expr);
  return targetLabelled.split(RECEIVER_JOB_MATCHER).join(scoped);
}

/** kube-prometheus-stack's pod -> workload recording rule (group k8s.rules.pod_owner), the one prometheusRule.podOwnerRule may name. */
export const KPS_POD_OWNER_RULE = 'namespace_workload_pod:kube_pod_owner:relabel';

/** What replaces a `# pod owner` block when the chart reads that rule: its Deployment series, `workload` renamed to `deployment`. */
const KPS_POD_OWNER_READ = (rule: string) =>
  `max by (namespace, deployment, pod) (label_replace(${rule}{workload_type="deployment"}, "deployment", "$1", "workload", "(.*)"))`;

/** Values units per rule unit, where they differ (responseTimeThreshold: ms in values, s in the rule). */
const VALUES_SCALE: Partial<Record<SeedKey, number>> = { responseTimeThreshold: 1000 };

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Group {
  name: string;
  interval?: string;
  rules: Rule[];
}

export interface RuleFile {
  groups: Group[];
}

/** A number in an expression that a marker names. */
interface MarkedNumber {
  /** 0-based line of the expression. */
  line: number;
  /** Offset of the number in that line, and its text as written (e.g. "0.1", "3m"). */
  start: number;
  literal: string;
  /** The number in the rule's unit, and its unit suffix ("" or a duration unit like "m"). */
  value: number;
  unit: string;
}

/** One `# threshold: <key>` marker found in an expression. */
export interface Threshold extends MarkedNumber {
  key: SeedKey;
  /** The same threshold in the Helm values' unit, as the default string of the helper. */
  valuesDefault: string;
}

/** One number named by a `# param:` marker. */
export interface Param extends MarkedNumber {
  name: RuleParam;
}

export class RulesError extends Error {}

const THRESHOLD_MARKER = /#\s*threshold:\s*([A-Za-z]+)/;
const PARAM_MARKER = /#\s*param:\s*([A-Za-z]+(?:\s*,\s*[A-Za-z]+)*)/;
const POD_OWNER_MARKER = /^\s*#\s*pod owner:\s*(begin|end)\s*$/;
// A number or duration standing alone; a colon may touch it (the `[4m:15s]` of a subquery).
const NUMBER = /(?<![A-Za-z0-9_.$])(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(ms|[smhdwy])?(?![A-Za-z0-9_.])/g;

/** Blanks out quoted strings and `{...}` label matchers, keeping offsets, so only PromQL tokens remain. */
export function maskPromql(code: string): string {
  let out = '';
  let quote: string | undefined;
  let braces = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (quote) {
      if (c === '\\' && quote !== '`') {
        out += '  ';
        i++;
        continue;
      }
      if (c === quote) quote = undefined;
      out += ' ';
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c;
      out += ' ';
    } else if (c === '{') {
      braces++;
      out += ' ';
    } else if (c === '}') {
      braces = Math.max(0, braces - 1);
      out += ' ';
    } else {
      out += braces > 0 ? ' ' : c;
    }
  }
  return out;
}

function formatNumber(n: number): string {
  return String(Number(n.toPrecision(15)));
}

/** The numbers of a marked line before its marker (outside strings and label matchers); exactly `count` of them, or an error. */
function markedNumbers(text: string, markerAt: number, line: number, count: number, what: string, where: string): MarkedNumber[] {
  const numbers = [...maskPromql(text.slice(0, markerAt)).matchAll(NUMBER)];
  if (numbers.length !== count) {
    throw new RulesError(
      `${where}, line ${line + 1}: a line marked "${what}" needs exactly ${count} number(s) outside strings and label matchers, found ${numbers.length}: ${text.trim()}`,
    );
  }
  return numbers.map((n) => ({ line, start: n.index, literal: n[0], value: Number(n[1]), unit: n[2] ?? '' }));
}

/** Finds the threshold markers of one expression; throws when a marker is ambiguous. */
export function findThresholds(expr: string, where = 'expr'): Threshold[] {
  const found: Threshold[] = [];
  expr.split('\n').forEach((text, line) => {
    const m = THRESHOLD_MARKER.exec(text);
    if (!m) return;
    const key = m[1] as SeedKey;
    if (!SEED_KEYS.includes(key)) {
      throw new RulesError(`${where}, line ${line + 1}: "# threshold: ${m[1]}" names no seed trigger key (${SEED_KEYS.join(', ')})`);
    }
    const [n] = markedNumbers(text, m.index, line, 1, `# threshold: ${key}`, where);
    found.push({ ...n!, key, valuesDefault: formatNumber(n!.value * (VALUES_SCALE[key] ?? 1)) });
  });
  return found;
}

/** Finds the `# param:` markers of one expression: each named number, in line order. */
export function findParams(expr: string, where = 'expr'): Param[] {
  const found: Param[] = [];
  expr.split('\n').forEach((text, line) => {
    const m = PARAM_MARKER.exec(text);
    if (!m) return;
    const names = m[1]!.split(',').map((s) => s.trim());
    for (const name of names) {
      if (!(RULE_PARAMS as readonly string[]).includes(name)) {
        throw new RulesError(`${where}, line ${line + 1}: "# param: ${name}" names no rule parameter (${RULE_PARAMS.join(', ')})`);
      }
    }
    const numbers = markedNumbers(text, m.index, line, names.length, `# param: ${m[1]}`, where);
    numbers.forEach((n, i) => found.push({ ...n, name: names[i] as RuleParam }));
  });
  return found;
}

/** The `# pod owner: begin` / `# pod owner: end` line pairs of one expression (0-based lines). */
export function findPodOwnerBlocks(expr: string, where = 'expr'): { begin: number; end: number }[] {
  const blocks: { begin: number; end: number }[] = [];
  let open: number | undefined;
  expr.split('\n').forEach((text, line) => {
    const m = POD_OWNER_MARKER.exec(text);
    if (!m) {
      if (/#\s*pod owner\b/.test(text)) throw new RulesError(`${where}, line ${line + 1}: a pod owner marker is a line of its own: "# pod owner: begin" or "# pod owner: end"`);
      return;
    }
    if (m[1] === 'begin') {
      if (open !== undefined) throw new RulesError(`${where}, line ${line + 1}: "# pod owner: begin" inside the block begun at line ${open + 1}`);
      open = line;
    } else {
      if (open === undefined) throw new RulesError(`${where}, line ${line + 1}: "# pod owner: end" without a begin`);
      if (line === open + 1) throw new RulesError(`${where}, line ${line + 1}: an empty pod owner block`);
      blocks.push({ begin: open, end: line });
      open = undefined;
    }
  });
  if (open !== undefined) throw new RulesError(`${where}, line ${open + 1}: "# pod owner: begin" without an end`);
  return blocks;
}

/** The seed key whose trigger a rule belongs to (its rollback_trigger label), if any. */
export function seedKeyOf(rule: Rule): SeedKey | undefined {
  const trigger = rule.labels?.rollback_trigger;
  if (trigger === undefined) return undefined;
  const key = SEED_KEYS.find((k) => SEED_TRIGGER_KEYS[k] === trigger);
  if (!key) {
    throw new RulesError(
      `${rule.alert ?? rule.record}: rollback_trigger="${trigger}" is not a default trigger (${Object.values(SEED_TRIGGER_KEYS).join(', ')})`,
    );
  }
  return key;
}

const RULE_KEYS = new Set(['alert', 'record', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DURATION = /^(\d+(ms|[smhdwy]))+$/;

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** Parses and checks the shape the emitter supports (it is the subset this project uses). */
export function parseRuleFile(text: string, file: string): RuleFile {
  const doc = parse(text) as unknown;
  const fail = (msg: string): never => {
    throw new RulesError(`${file}: ${msg}`);
  };
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as RuleFile).groups)) fail('expected a top-level "groups" list');
  const groups = (doc as RuleFile).groups;
  for (const g of groups) {
    if (typeof g.name !== 'string' || !Array.isArray(g.rules) || g.rules.length === 0) fail('every group needs a name and rules');
    for (const key of Object.keys(g)) if (!['name', 'interval', 'rules'].includes(key)) fail(`group ${g.name}: unsupported key ${key}`);
    for (const r of g.rules) {
      const id = r.alert ?? r.record ?? '?';
      for (const key of Object.keys(r)) if (!RULE_KEYS.has(key)) fail(`${id}: unsupported key ${key}`);
      if ((r.alert === undefined) === (r.record === undefined)) fail(`${id}: a rule is either an alert or a record`);
      if (!NAME.test(id)) fail(`${id}: not a valid rule name`);
      if (typeof r.expr !== 'string' || r.expr.trim() === '' || /^\s/.test(r.expr)) fail(`${id}: expr must be a string not starting with a space`);
      for (const d of [r.for, r.keep_firing_for, g.interval]) if (d !== undefined && !DURATION.test(String(d))) fail(`${id}: bad duration ${d}`);
      for (const [what, map] of [['labels', r.labels], ['annotations', r.annotations]] as const) {
        if (map === undefined) continue;
        if (!isStringMap(map)) fail(`${id}: ${what} must map names to strings`);
        for (const k of Object.keys(map!)) if (!LABEL.test(k)) fail(`${id}: ${what} name ${k}`);
      }
    }
  }
  return doc as RuleFile;
}

export interface Sources {
  triggers: RuleFile;
  receiver: RuleFile;
}

/** Reads both source rule files and checks the conventions the generated files rely on. */
export function loadSources(root = ROOT): Sources {
  const read = (f: string) => parseRuleFile(readFileSync(path.join(root, f), 'utf8'), f);
  const sources = { triggers: read(SOURCES.triggers), receiver: read(SOURCES.receiver) };
  checkConventions(sources);
  return sources;
}

export function checkConventions({ triggers, receiver }: Sources): void {
  const names = new Set<string>();
  for (const g of [...triggers.groups, ...receiver.groups]) {
    if (names.has(g.name)) throw new RulesError(`group name ${g.name} is used twice`);
    names.add(g.name);
    for (const r of g.rules) {
      const where = `${g.name}: ${r.alert ?? r.record}`;
      if (r.record !== undefined) {
        throw new RulesError(
          `${where}: recording rules are not shipped (kube-prometheus-stack records what these rules could reuse, see prometheusRule.podOwnerRule); compute it in the alert's expression`,
        );
      }
      if (r.annotations?.runbook_url !== undefined) {
        throw new RulesError(`${where}: leave runbook_url out of the sources; the chart adds it from prometheusRule.runbookUrl`);
      }
      findParams(r.expr, where);
    }
  }
  for (const g of triggers.groups) {
    for (const r of g.rules) {
      const where = `${SOURCES.triggers}: ${r.alert}`;
      const key = seedKeyOf(r);
      const marks = findThresholds(r.expr, where);
      findPodOwnerBlocks(r.expr, where);
      if (key === undefined) throw new RulesError(`${where}: a trigger alert needs a rollback_trigger label`);
      if (marks.length !== 1 || marks[0]!.key !== key) {
        throw new RulesError(`${where}: needs exactly one "# threshold: ${key}" marker, found ${marks.map((m) => m.key).join(', ') || 'none'}`);
      }
    }
  }
  for (const g of receiver.groups) {
    for (const r of g.rules) {
      const where = `${SOURCES.receiver}: ${r.alert}`;
      if (r.labels?.rollback_trigger !== undefined) throw new RulesError(`${where}: must not carry rollback_trigger (the receiver would roll itself back)`);
      if (!r.expr.includes(RECEIVER_JOB_MATCHER)) throw new RulesError(`${where}: every selector must be scoped with ${RECEIVER_JOB_MATCHER}`);
      if (findThresholds(r.expr, where).length > 0) throw new RulesError(`${where}: threshold markers belong on trigger alerts only`);
      if (findPodOwnerBlocks(r.expr, where).length > 0) throw new RulesError(`${where}: pod owner blocks belong on trigger alerts only`);
    }
  }
}

// ---------------------------------------------------------------------------- emitter

/** A YAML double-quoted scalar (JSON strings are valid YAML). */
const quoted = (s: string) => JSON.stringify(s);

/** `extraAnnotations`: lines (without indentation) appended to the annotations. */
function emitRule(r: Rule, indent: string, extraAnnotations: string[] = []): string[] {
  const out: string[] = [];
  const inner = `${indent}  `;
  out.push(r.alert !== undefined ? `${indent}- alert: ${r.alert}` : `${indent}- record: ${r.record}`);
  out.push(`${inner}expr: |-`);
  for (const line of r.expr.replace(/\n+$/, '').split('\n')) out.push(line === '' ? '' : `${inner}  ${line}`);
  if (r.for !== undefined) out.push(`${inner}for: ${r.for}`);
  if (r.keep_firing_for !== undefined) out.push(`${inner}keep_firing_for: ${r.keep_firing_for}`);
  if (r.labels && Object.keys(r.labels).length > 0) {
    out.push(`${inner}labels:`);
    for (const [k, v] of Object.entries(r.labels)) out.push(`${inner}  ${k}: ${quoted(v)}`);
  }
  const annotations = Object.entries(r.annotations ?? {}).map(([k, v]) => `${k}: ${quoted(v)}`);
  if (annotations.length + extraAnnotations.length > 0) {
    out.push(`${inner}annotations:`);
    for (const line of [...annotations, ...extraAnnotations]) out.push(`${inner}  ${line}`);
  }
  return out;
}

/** The seed triggers a group is rendered for (the union of its alerts'); undefined = always. */
function groupGate(g: Group): SeedKey[] | undefined {
  const keys = g.rules.map(seedKeyOf);
  if (keys.some((k) => k === undefined)) return undefined;
  return SEED_KEYS.filter((k) => keys.includes(k));
}

function ifEnabled(gate: SeedKey[]): string {
  const tests = gate.map((k) => `(include "rollback-receiver.triggerEnabled" (list . "${k}"))`);
  return tests.length === 1 ? `if ${tests[0]!.slice(1, -1)}` : `if or ${tests.join(' ')}`;
}

/** How the Helm variant wraps what it emits: `action` turns a template action into text that escaping leaves alone. */
interface HelmEmit {
  action: (a: string) => string;
  runbook: (r: Rule) => string[];
}

/** The spec.groups lines; with `helm`, each gated group and alert is wrapped in its trigger condition. */
function emitGroups(groups: Group[], indent: string, helm?: HelmEmit): string[] {
  const out: string[] = [];
  for (const g of groups) {
    const gate = groupGate(g);
    if (helm && gate) out.push(indent + helm.action(`{{- ${ifEnabled(gate)} }}`));
    out.push(`${indent}- name: ${g.name}`);
    if (g.interval !== undefined) out.push(`${indent}  interval: ${g.interval}`);
    out.push(`${indent}  rules:`);
    for (const r of g.rules) {
      const key = seedKeyOf(r);
      const own = helm !== undefined && key !== undefined && !isDeepStrictEqual(gate, [key]);
      if (own) out.push(`${indent}    ` + helm.action(`{{- ${ifEnabled([key])} }}`));
      out.push(...emitRule(r, `${indent}    `, helm?.runbook(r)));
      if (own) out.push(`${indent}    ` + helm.action('{{- end }}'));
    }
    if (helm && gate) out.push(indent + helm.action('{{- end }}'));
  }
  return out;
}

// ------------------------------------------------------------------ Helm substitution

/** Escapes every `{{` and `}}` so Helm prints them as they are (for Prometheus). */
export function escapeForHelm(text: string): string {
  return text.replace(/\{\{|\}\}/g, (m) => (m === '{{' ? '{{ "{{" }}' : '{{ "}}" }}'));
}

const PLACEHOLDER = (i: number) => `@@helm-action-${i}@@`;

/** The Helm action that renders a threshold marker's number. */
function thresholdAction(t: Threshold): string {
  const include = `include "rollback-receiver.threshold" (list . "${t.key}" "${t.valuesDefault}")`;
  const scale = VALUES_SCALE[t.key];
  // divf: sprig's decimal division (2500 / 1000 prints 2.5, 5000 / 1000 prints 5).
  return scale ? `{{ divf (${include}) ${scale} }}` : `{{ ${include} }}${t.unit}`;
}

/**
 * An expression with Helm actions in place of its marked numbers (replaced from the end of
 * each line, so earlier offsets stay valid) and of its pod owner blocks.
 */
function helmExpr(expr: string, hold: (action: string) => string): string {
  const lines = expr.split('\n');
  const replacements = [
    ...findThresholds(expr).map((t) => ({ at: t, action: thresholdAction(t) })),
    ...findParams(expr).map((p) => ({ at: p as MarkedNumber, action: `{{ include "rollback-receiver.ruleParam" (list . "${p.name}") }}` })),
  ].sort((a, b) => a.at.line - b.at.line || b.at.start - a.at.start);
  for (const { at, action } of replacements) {
    const line = lines[at.line]!;
    lines[at.line] = line.slice(0, at.start) + hold(action) + line.slice(at.start + at.literal.length);
  }
  // From the last block to the first, so earlier line numbers stay valid.
  for (const { begin, end } of findPodOwnerBlocks(expr).reverse()) {
    const body = lines.slice(begin + 1, end);
    const indent = /^\s*/.exec(body[0]!)![0];
    lines.splice(
      begin + 1,
      body.length,
      hold('{{- if $podOwnerRule }}'),
      indent + KPS_POD_OWNER_READ(hold('{{ $podOwnerRule }}')),
      hold('{{- else }}'),
      ...body,
      hold('{{- end }}'),
    );
  }
  return lines.join('\n');
}

/**
 * The rules with Helm actions in place of marked numbers, pod owner blocks and the
 * receiver job. Actions go in as placeholders (so escaping leaves them alone) and come back
 * in `restore`.
 */
function helmRules(sources: Sources): { groups: Group[]; hold: (action: string) => string; restore: (text: string) => string } {
  const actions: string[] = [];
  const hold = (action: string) => {
    actions.push(action);
    return PLACEHOLDER(actions.length - 1);
  };
  if (JSON.stringify(sources).includes('@@helm-action-')) throw new RulesError('the sources contain the generator placeholder "@@helm-action-"');

  const receiverJob = hold('job="{{ $job }}", namespace="{{ .Release.Namespace }}"');
  const jobOnly = hold('job="{{ $job }}"');
  const scope = (expr: string) => scopeReceiverSelectors(expr, receiverJob, jobOnly);
  const groups = [...sources.triggers.groups, ...sources.receiver.groups].map((g) => ({
    ...g,
    rules: g.rules.map((r) => ({ ...r, expr: scope(helmExpr(r.expr, hold)) })),
  }));
  return {
    groups,
    hold,
    restore: (text) => text.replace(/@@helm-action-(\d+)@@/g, (_, i: string) => actions[Number(i)]!),
  };
}

// -------------------------------------------------------------------------- outputs

const HEADER = [
  `Generated by scripts/rules/generate.ts from ${SOURCES.triggers} and`,
  `${SOURCES.receiver}: edit those, then run \`npx tsx scripts/rules/generate.ts\`.`,
];

export function generate(root = ROOT): { plain: string; helm: string } {
  const sources = loadSources(root);
  const groups = [...sources.triggers.groups, ...sources.receiver.groups];

  const plain = [
    ...HEADER.map((l) => `# ${l}`),
    "# Default values (the seed's thresholds); the Helm chart renders them from its values.",
    'apiVersion: monitoring.coreos.com/v1',
    'kind: PrometheusRule',
    'metadata:',
    '  name: rollback-receiver',
    '  labels:',
    '    app.kubernetes.io/name: rollback-receiver',
    '    release: kube-prometheus-stack',
    'spec:',
    '  groups:',
    ...emitGroups(groups, '    '),
    '',
  ].join('\n');

  // The emitter must reproduce the sources exactly.
  const back = (parse(plain) as { spec: RuleFile }).spec.groups;
  const normalise = (gs: Group[]) => gs.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, expr: r.expr.replace(/\n+$/, '') })) }));
  if (!isDeepStrictEqual(back, normalise(groups))) throw new RulesError('internal: the generated PrometheusRule does not round-trip to the sources');

  const h = helmRules(sources);
  const runbook = (r: Rule) =>
    r.alert === undefined
      ? []
      : [h.hold('{{- with $runbookUrl }}'), `runbook_url: ${h.hold(`{{ printf "%s#%s" . "${r.alert.toLowerCase()}" | quote }}`)}`, h.hold('{{- end }}')];
  const body = h.restore(escapeForHelm(emitGroups(h.groups, '    ', { action: h.hold, runbook }).join('\n')));
  const helm = [
    '{{- /*',
    ...HEADER,
    '',
    "Thresholds and enabled triggers come from .Values.rollback.triggers (the seed's values",
    'block), the other numbers from .Values.prometheusRule, through the helpers in _helpers.tpl:',
    '  include "rollback-receiver.triggerEnabled" (list . "<seedKey>")          -> "true" or ""',
    '  include "rollback-receiver.threshold" (list . "<seedKey>" "<default>")   -> the value or the default',
    '  include "rollback-receiver.ruleParam" (list . "<name>")                   -> a rule parameter',
    'Prometheus templates in annotations are escaped as {{ "{{" }} ... {{ "}}" }}.',
    '*/ -}}',
    '{{- if and .Values.prometheusRule.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/PrometheusRule") }}',
    '{{- $job := .Values.prometheusRule.receiverJob | default (include "rollback-receiver.fullname" .) }}',
    '{{- $runbookUrl := .Values.prometheusRule.runbookUrl }}',
    '{{- $podOwnerRule := .Values.prometheusRule.podOwnerRule }}',
    'apiVersion: monitoring.coreos.com/v1',
    'kind: PrometheusRule',
    'metadata:',
    '  name: {{ include "rollback-receiver.fullname" . }}',
    '  namespace: {{ .Release.Namespace }}',
    '  labels:',
    '    {{- include "rollback-receiver.labels" . | nindent 4 }}',
    '    {{- with .Values.prometheusRule.labels }}',
    '    {{- toYaml . | nindent 4 }}',
    '    {{- end }}',
    'spec:',
    '  groups:',
    body,
    '{{- end }}',
    '',
  ].join('\n');

  return { plain, helm };
}

function main(argv: string[]): number {
  const out = generate();
  const targets = [
    [OUTPUTS.plain, out.plain],
    [OUTPUTS.helm, out.helm],
  ] as const;
  if (argv.includes('--check')) {
    let stale = 0;
    for (const [file, text] of targets) {
      let current = '';
      try {
        current = readFileSync(path.join(ROOT, file), 'utf8');
      } catch {
        // missing counts as stale
      }
      if (current !== text) {
        process.stderr.write(`${file} is out of date: run npx tsx scripts/rules/generate.ts\n`);
        stale++;
      }
    }
    return stale === 0 ? 0 : 1;
  }
  for (const [file, text] of targets) {
    mkdirSync(path.dirname(path.join(ROOT, file)), { recursive: true });
    writeFileSync(path.join(ROOT, file), text);
    process.stdout.write(`wrote ${file}\n`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
