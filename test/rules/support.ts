/**
 * Shared by the alert-rule tests: running promtool (execFile, no shell), reading the rule
 * and promtool test files, and a small PromQL reader for what the tests check
 * (aggregation labels, metric names, matcher labels).
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT, maskPromql, type Rule, type RuleFile } from '../../scripts/rules/generate.js';
import { parseDuration } from '../../src/config/duration.js';

export { ROOT };

/** Debian's `prometheus` package installs it as /usr/bin/promtool. */
export const PROMTOOL = process.env.PROMTOOL || 'promtool';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs promtool; resolves with its exit code and output (a missing binary says how to install it). */
export function promtool(args: string[], cwd = ROOT): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${PROMTOOL} not found: install Debian's prometheus package (apt-get install -y prometheus)`));
        return;
      }
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** promtool's output, for a failing assertion's message. */
export function show(r: ToolResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

export const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** alert-rules/tests/*.test.yml, relative to the root. */
export function promtoolTestFiles(): string[] {
  return readdirSync(path.join(ROOT, 'alert-rules/tests'))
    .filter((f) => f.endsWith('.test.yml'))
    .sort()
    .map((f) => `alert-rules/tests/${f}`);
}

export interface AlertExpectation {
  file: string;
  test: string;
  alertname: string;
  evalTime: string;
  alerts: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
}

/** Every alert_rule_test expectation of the promtool test files. */
export function alertExpectations(): AlertExpectation[] {
  const out: AlertExpectation[] = [];
  for (const file of promtoolTestFiles()) {
    const doc = parse(read(file)) as {
      tests: { name?: string; alert_rule_test?: { alertname: string; eval_time: string; exp_alerts?: AlertExpectation['alerts'] }[] }[];
    };
    for (const t of doc.tests) {
      for (const a of t.alert_rule_test ?? []) {
        out.push({ file, test: t.name ?? '?', alertname: a.alertname, evalTime: a.eval_time, alerts: a.exp_alerts ?? [] });
      }
    }
  }
  return out;
}

export const alertsOf = (f: RuleFile): Rule[] => f.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);

// ------------------------------------------------------------------- PromQL reading

/** The expression without `# ...` comments (outside strings). */
export function stripComments(expr: string): string {
  return expr
    .split('\n')
    .map((line) => {
      const masked = maskPromql(line);
      const i = masked.indexOf('#');
      return i < 0 ? line : line.slice(0, i);
    })
    .join('\n');
}

const AGGREGATORS = ['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio'];

export interface Aggregation {
  op: string;
  /** `by` / `without` labels, or undefined when the aggregation has no leading clause. */
  clause?: { kind: 'by' | 'without'; labels: string[] };
  /** [start of the operator, end of its argument list] in the expression. */
  span: [number, number];
}

function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  throw new Error(`unbalanced parentheses in: ${text}`);
}

/** Every aggregation of the expression, with its `by`/`without` clause (leading form). */
export function aggregations(expr: string): Aggregation[] {
  const text = maskPromql(stripComments(expr));
  const re = new RegExp(`(?<![A-Za-z0-9_:])(${AGGREGATORS.join('|')})\\s*(?:(by|without)\\s*\\(([^)]*)\\)\\s*)?\\(`, 'g');
  const out: Aggregation[] = [];
  for (const m of text.matchAll(re)) {
    const open = m.index + m[0].length - 1;
    const clause = m[2] ? { kind: m[2] as 'by' | 'without', labels: m[3]!.split(',').map((s) => s.trim()).filter(Boolean) } : undefined;
    out.push({ op: m[1]!, clause, span: [m.index, closingParen(text, open)] });
  }
  return out;
}

/** The aggregations not nested inside another one's argument: they decide the result's labels. */
export function outermostAggregations(expr: string): Aggregation[] {
  const all = aggregations(expr);
  return all.filter((a) => !all.some((b) => b !== a && b.span[0] < a.span[0] && a.span[1] <= b.span[1]));
}

/** `by`/`without` written after the argument list (`sum(x) by (l)`): the reader above does not follow it. */
export function hasTrailingGrouping(expr: string): boolean {
  return /\)\s*(by|without)\s*\(/.test(maskPromql(stripComments(expr)));
}

/** Metric names the expression selects (identifiers that are not functions, keywords or label lists). */
export function metricNames(expr: string): string[] {
  let text = maskPromql(stripComments(expr));
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  text = text.replace(/\[[^\]]*\]/g, ' ');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
  const names = new Set<string>();
  for (const m of text.matchAll(/(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(?![A-Za-z0-9_:])(\s*\()?/g)) {
    if (m[2] || keywords.has(m[1]!.toLowerCase())) continue;
    names.add(m[1]!);
  }
  return [...names].sort();
}

/** Label names used in `metric{...}` matchers, per metric. */
export function matcherLabels(expr: string): { metric: string; labels: string[] }[] {
  const text = stripComments(expr);
  const out: { metric: string; labels: string[] }[] = [];
  for (const m of text.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}/g)) {
    out.push({ metric: m[1]!, labels: [...m[2]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*"/g)].map((x) => x[1]!) });
  }
  return out;
}

/** Every range of the expression in seconds: `[5m]`, and a subquery's range (`[4m:15s]` is 240, its step left out). */
export function rangeSeconds(expr: string): number[] {
  const text = maskPromql(stripComments(expr));
  return [...text.matchAll(/\[\s*((?:\d+(?:ms|[smhdwy]))+)\s*(?::[^\]]*)?\]/g)].map((m) => {
    const ms = parseDuration(m[1]!);
    if (typeof ms === 'string') throw new Error(`range [${m[1]}]: ${ms}`);
    return ms / 1000;
  });
}
