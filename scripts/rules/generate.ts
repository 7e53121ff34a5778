/**
 * One source of truth for the alert rules: alert-rules/*.rules.yml (plain Prometheus rule
 * files, what promtool and a plain Prometheus read) are turned into
 *
 *   alert-rules/prometheusrule.yaml                    a PrometheusRule, default thresholds
 *   helm/rollback-receiver/templates/prometheusrule.yaml   the same as a Helm template
 *
 *   npx tsx scripts/rules/generate.ts           write both
 *   npx tsx scripts/rules/generate.ts --check   exit 1 when either differs from the sources
 *
 * In the Helm template:
 * - a trigger alert (label rollback_trigger) is rendered only when its seed trigger is
 *   enabled in `.Values.rollback.triggers` (include "rollback-receiver.triggerEnabled");
 *   a recording rule only when an alert that uses it is; a group only when one of its
 *   rules is;
 * - the number on an expr line marked `# threshold: <seedKey>` becomes
 *   include "rollback-receiver.threshold" (list . "<seedKey>" "<default>"), the default being
 *   the source's number in the values' unit (responseTimeThreshold: milliseconds in values,
 *   seconds in the rule, so it renders `{{ divf (include ...) 1000 }}`);
 * - the receiver rules' job matcher `job=~".*rollback-receiver.*"` becomes the release's own
 *   job and namespace;
 * - runbook_url's base becomes `.Values.prometheusRule.runbookUrl` (default: the same URL);
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

/** The scrape-job matcher every receiver rule uses; the Helm template scopes it to the release. */
export const RECEIVER_JOB_MATCHER = 'job=~".*rollback-receiver.*"';

/** Where the runbooks (alert-rules/runbooks.md) are linked from the source rules. */
export const RUNBOOK_URL = 'https://example.com/rollback-receiver/alert-rules/runbooks.md';

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

/** One `# threshold: <key>` marker found in an expression. */
export interface Threshold {
  key: SeedKey;
  /** 0-based line of the expression. */
  line: number;
  /** Offset of the number in that line, and its text as written (e.g. "0.1", "3m"). */
  start: number;
  literal: string;
  /** The number in the rule's unit, and its unit suffix ("" or a duration unit like "m"). */
  value: number;
  unit: string;
  /** The same threshold in the Helm values' unit, as the default string of the helper. */
  valuesDefault: string;
}

export class RulesError extends Error {}

const MARKER = /#\s*threshold:\s*([A-Za-z]+)/;
const NUMBER = /(?<![A-Za-z0-9_:.$])(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(ms|[smhdwy])?(?![A-Za-z0-9_:.])/g;

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

/** Finds the threshold markers of one expression; throws when a marker is ambiguous. */
export function findThresholds(expr: string, where = 'expr'): Threshold[] {
  const found: Threshold[] = [];
  expr.split('\n').forEach((text, line) => {
    const m = MARKER.exec(text);
    if (!m) return;
    const key = m[1] as SeedKey;
    if (!SEED_KEYS.includes(key)) {
      throw new RulesError(`${where}, line ${line + 1}: "# threshold: ${m[1]}" names no seed trigger key (${SEED_KEYS.join(', ')})`);
    }
    const code = maskPromql(text.slice(0, m.index));
    const numbers = [...code.matchAll(NUMBER)];
    if (numbers.length !== 1) {
      throw new RulesError(
        `${where}, line ${line + 1}: a line marked "# threshold: ${key}" needs exactly one number outside strings and label matchers, found ${numbers.length}: ${text.trim()}`,
      );
    }
    const n = numbers[0]!;
    const value = Number(n[1]);
    const unit = n[2] ?? '';
    found.push({
      key,
      line,
      start: n.index,
      literal: n[0],
      value,
      unit,
      valuesDefault: formatNumber(value * (VALUES_SCALE[key] ?? 1)),
    });
  });
  return found;
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
  }
  for (const g of triggers.groups) {
    for (const r of g.rules) {
      const where = `${SOURCES.triggers}: ${r.alert ?? r.record}`;
      const key = seedKeyOf(r);
      const marks = findThresholds(r.expr, where);
      if (r.alert !== undefined && key === undefined) throw new RulesError(`${where}: a trigger alert needs a rollback_trigger label`);
      if (key !== undefined && (marks.length !== 1 || marks[0]!.key !== key)) {
        throw new RulesError(`${where}: needs exactly one "# threshold: ${key}" marker, found ${marks.map((m) => m.key).join(', ') || 'none'}`);
      }
      if (key === undefined && marks.length > 0) throw new RulesError(`${where}: threshold markers belong on trigger alerts only`);
    }
  }
  for (const g of receiver.groups) {
    for (const r of g.rules) {
      const where = `${SOURCES.receiver}: ${r.alert ?? r.record}`;
      if (r.labels?.rollback_trigger !== undefined) throw new RulesError(`${where}: must not carry rollback_trigger (the receiver would roll itself back)`);
      if (!r.expr.includes(RECEIVER_JOB_MATCHER)) throw new RulesError(`${where}: every selector must be scoped with ${RECEIVER_JOB_MATCHER}`);
      if (findThresholds(r.expr, where).length > 0) throw new RulesError(`${where}: threshold markers belong on trigger alerts only`);
    }
  }
  for (const g of [...triggers.groups, ...receiver.groups]) {
    for (const r of g.rules) {
      const url = r.annotations?.runbook_url;
      if (r.alert !== undefined && (url === undefined || !url.startsWith(`${RUNBOOK_URL}#`))) {
        throw new RulesError(`${r.alert}: runbook_url must be ${RUNBOOK_URL}#<anchor>`);
      }
    }
  }
}

// ---------------------------------------------------------------------------- emitter

/** A YAML double-quoted scalar (JSON strings are valid YAML). */
const quoted = (s: string) => JSON.stringify(s);

function emitRule(r: Rule, indent: string): string[] {
  const out: string[] = [];
  const inner = `${indent}  `;
  out.push(r.alert !== undefined ? `${indent}- alert: ${r.alert}` : `${indent}- record: ${r.record}`);
  out.push(`${inner}expr: |-`);
  for (const line of r.expr.replace(/\n+$/, '').split('\n')) out.push(line === '' ? '' : `${inner}  ${line}`);
  if (r.for !== undefined) out.push(`${inner}for: ${r.for}`);
  if (r.keep_firing_for !== undefined) out.push(`${inner}keep_firing_for: ${r.keep_firing_for}`);
  for (const what of ['labels', 'annotations'] as const) {
    const map = r[what];
    if (!map || Object.keys(map).length === 0) continue;
    out.push(`${inner}${what}:`);
    for (const [k, v] of Object.entries(map)) out.push(`${inner}  ${k}: ${quoted(v)}`);
  }
  return out;
}

/** Which seed triggers a rule is rendered for; undefined = always. */
type Gate = SeedKey[] | undefined;

/**
 * An alert: its own trigger (none for the receiver's alerts). A recording rule: the
 * triggers of the alerts that use it, so it is recorded whenever one of them is rendered
 * (always, when nothing or an ungated alert uses it).
 */
function gates(groups: Group[]): Map<Rule, Gate> {
  const result = new Map<Rule, Gate>();
  const rules = groups.flatMap((g) => g.rules);
  const alerts = rules.filter((r) => r.alert !== undefined);
  for (const a of alerts) {
    const key = seedKeyOf(a);
    result.set(a, key ? [key] : undefined);
  }
  for (const r of rules) {
    if (r.record === undefined) continue;
    const name = r.record.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const uses = new RegExp(`(?<![A-Za-z0-9_:])${name}(?![A-Za-z0-9_:])`);
    const users = alerts.filter((a) => uses.test(a.expr));
    result.set(r, users.length === 0 ? undefined : unionGate(users.map((a) => result.get(a))));
  }
  return result;
}

function unionGate(gs: Gate[]): Gate {
  if (gs.some((g) => g === undefined)) return undefined;
  const keys = new Set(gs.flatMap((g) => g!));
  return SEED_KEYS.filter((k) => keys.has(k));
}

const sameGate = (a: Gate, b: Gate) => isDeepStrictEqual(a, b);

function ifEnabled(gate: SeedKey[]): string {
  const tests = gate.map((k) => `(include "rollback-receiver.triggerEnabled" (list . "${k}"))`);
  return tests.length === 1 ? `if ${tests[0]!.slice(1, -1)}` : `if or ${tests.join(' ')}`;
}

/**
 * The spec.groups lines. With `action` (Helm), each gated group and rule is wrapped in its
 * trigger condition; `action` turns a template action into text that escaping leaves alone.
 */
function emitGroups(groups: Group[], indent: string, action?: (a: string) => string): string[] {
  const helm = action !== undefined;
  const out: string[] = [];
  const ruleGates = gates(groups);
  for (const g of groups) {
    const groupGate = unionGate(g.rules.map((r) => ruleGates.get(r)));
    if (action && groupGate) out.push(indent + action(`{{- ${ifEnabled(groupGate)} }}`));
    out.push(`${indent}- name: ${g.name}`);
    if (g.interval !== undefined) out.push(`${indent}  interval: ${g.interval}`);
    out.push(`${indent}  rules:`);
    for (const r of g.rules) {
      const gate = ruleGates.get(r);
      const own = helm && gate !== undefined && !sameGate(gate, groupGate);
      if (own) out.push(`${indent}    ` + action(`{{- ${ifEnabled(gate)} }}`));
      out.push(...emitRule(r, `${indent}    `));
      if (own) out.push(`${indent}    ` + action('{{- end }}'));
    }
    if (action && groupGate) out.push(indent + action('{{- end }}'));
  }
  return out;
}

// ------------------------------------------------------------------ Helm substitution

/** Escapes every `{{` and `}}` so Helm prints them as they are (for Prometheus). */
export function escapeForHelm(text: string): string {
  return text.replace(/\{\{|\}\}/g, (m) => (m === '{{' ? '{{ "{{" }}' : '{{ "}}" }}'));
}

const PLACEHOLDER = (i: number) => `@@helm-action-${i}@@`;

/**
 * The rules with Helm actions in place of thresholds, the receiver job and the runbook
 * base. Actions go in as placeholders (so escaping leaves them alone) and come back in
 * `restore`.
 */
function helmRules(sources: Sources): { groups: Group[]; hold: (action: string) => string; restore: (text: string) => string } {
  const actions: string[] = [];
  const hold = (action: string) => {
    actions.push(action);
    return PLACEHOLDER(actions.length - 1);
  };
  const all = JSON.stringify(sources);
  if (all.includes('@@helm-action-')) throw new RulesError('the sources contain the generator placeholder "@@helm-action-"');

  const runbook = (r: Rule): Rule =>
    r.annotations?.runbook_url === undefined
      ? r
      : { ...r, annotations: { ...r.annotations, runbook_url: hold('{{ $runbookUrl }}') + r.annotations.runbook_url.slice(RUNBOOK_URL.length) } };

  const triggers = sources.triggers.groups.map((g) => ({
    ...g,
    rules: g.rules.map((r) => {
      const lines = r.expr.split('\n');
      for (const t of findThresholds(r.expr)) {
        const include = `{{ include "rollback-receiver.threshold" (list . "${t.key}" "${t.valuesDefault}") }}`;
        const scale = VALUES_SCALE[t.key];
        // divf: sprig's decimal division (2500 / 1000 prints 2.5, 5000 / 1000 prints 5).
        const action = scale ? `{{ divf (include "rollback-receiver.threshold" (list . "${t.key}" "${t.valuesDefault}")) ${scale} }}` : `${include}${t.unit}`;
        const line = lines[t.line]!;
        lines[t.line] = line.slice(0, t.start) + hold(action) + line.slice(t.start + t.literal.length);
      }
      return runbook({ ...r, expr: lines.join('\n') });
    }),
  }));
  const receiver = sources.receiver.groups.map((g) => ({
    ...g,
    rules: g.rules.map((r) =>
      runbook({ ...r, expr: r.expr.split(RECEIVER_JOB_MATCHER).join(hold('job="{{ $job }}", namespace="{{ .Release.Namespace }}"')) }),
    ),
  }));
  return {
    groups: [...triggers, ...receiver],
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
    '# Default thresholds (the seed\'s); the Helm chart renders them from its values.',
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
  const body = h.restore(escapeForHelm(emitGroups(h.groups, '    ', h.hold).join('\n')));
  const helm = [
    '{{- /*',
    ...HEADER,
    '',
    'Thresholds and enabled triggers come from .Values.rollback.triggers (the seed\'s values',
    'block), through the helpers in _helpers.tpl:',
    '  include "rollback-receiver.triggerEnabled" (list . "<seedKey>")          -> "true" or ""',
    '  include "rollback-receiver.threshold" (list . "<seedKey>" "<default>")   -> the value or the default',
    'Prometheus templates in annotations are escaped as {{ "{{" }} ... {{ "}}" }}.',
    '*/ -}}',
    '{{- if .Values.prometheusRule.enabled }}',
    '{{- $job := .Values.prometheusRule.receiverJob | default (include "rollback-receiver.fullname" .) }}',
    `{{- $runbookUrl := .Values.prometheusRule.runbookUrl | default "${RUNBOOK_URL}" }}`,
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
