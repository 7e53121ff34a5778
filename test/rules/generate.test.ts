/**
 * One source of truth: the generated PrometheusRule and Helm template are exactly what the
 * generator makes from alert-rules/*.rules.yml, and the generator's conventions (threshold
 * markers, Helm escaping, trigger gating) hold.
 */
import { parse } from 'yaml';
import {
  OUTPUTS,
  RulesError,
  SEED_KEYS,
  checkConventions,
  escapeForHelm,
  findThresholds,
  generate,
  loadSources,
  parseRuleFile,
  type Sources,
} from '../../scripts/rules/generate.js';
import { alertsOf, read } from './support.js';

describe('generated files', () => {
  const out = generate();

  test.each([
    ['plain', OUTPUTS.plain],
    ['helm', OUTPUTS.helm],
  ] as const)('%s (%s) is up to date: run `npx tsx scripts/rules/generate.ts` after editing alert-rules/*.rules.yml', (kind, file) => {
    expect(read(file)).toBe(out[kind]);
  });

  test('the PrometheusRule is applyable and holds the source groups unchanged', () => {
    const pr = parse(out.plain) as {
      apiVersion: string;
      kind: string;
      metadata: { name: string; labels: Record<string, string> };
      spec: { groups: unknown[] };
    };
    expect(pr.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(pr.kind).toBe('PrometheusRule');
    expect(pr.metadata.name).toBe('rollback-receiver');
    expect(pr.metadata.labels).toEqual({ release: 'kube-prometheus-stack', 'app.kubernetes.io/name': 'rollback-receiver' });
    const s = loadSources();
    const strip = (g: Sources['triggers']['groups']) => g.map((x) => ({ ...x, rules: x.rules.map((r) => ({ ...r, expr: r.expr.trimEnd() })) }));
    expect(pr.spec.groups).toEqual(strip([...s.triggers.groups, ...s.receiver.groups]));
  });

  test('the Helm template is wrapped in prometheusRule.enabled and takes metadata from the chart', () => {
    const lines = out.helm.split('\n');
    const firstAction = lines.find((l) => !/^\s*$/.test(l) && !l.startsWith('{{- /*') && !/^[^{]/.test(l));
    expect(firstAction).toBe('{{- if .Values.prometheusRule.enabled }}');
    expect(out.helm.trimEnd().endsWith('{{- end }}')).toBe(true);
    expect(out.helm).toContain('  name: {{ include "rollback-receiver.fullname" . }}');
    expect(out.helm).toContain('    {{- include "rollback-receiver.labels" . | nindent 4 }}');
    expect(out.helm).toContain('    {{- with .Values.prometheusRule.labels }}');
  });

  test('every trigger is gated and takes its threshold from values; if/with and end balance', () => {
    for (const key of SEED_KEYS) {
      expect(out.helm).toContain(`include "rollback-receiver.triggerEnabled" (list . "${key}")`);
      expect(out.helm).toMatch(new RegExp(`include "rollback-receiver\\.threshold" \\(list \\. "${key}" "[0-9.]+"\\)`));
    }
    const actions = [...out.helm.matchAll(/\{\{-?\s*(if|with|range|end)\b/g)].map((m) => m[1]);
    expect(actions.filter((a) => a === 'end').length).toBe(actions.filter((a) => a !== 'end').length);
    expect(out.helm).toContain('{{ divf (include "rollback-receiver.threshold" (list . "responseTimeThreshold" "5000")) 1000 }}');
    expect(out.helm).toContain('[{{ include "rollback-receiver.threshold" (list . "healthCheckFailures" "3") }}m]');
  });

  test('Prometheus templates survive Helm: every {{ and }} of the sources is escaped, none is left bare', () => {
    // With the two escapes taken out, every remaining action is one the generator writes.
    const unescaped = out.helm.replaceAll('{{ "{{" }}', '').replaceAll('{{ "}}" }}', '');
    const bodies = [...unescaped.matchAll(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g)].map((m) => m[1]!);
    const vocabulary = [/^\/\*[\s\S]*\*\/$/, /^if /, /^end$/, /^with /, /^toYaml \. \| nindent 4$/, /^include "rollback-receiver\./, /^divf \(include "rollback-receiver\.threshold" /, /^\$job( := .*)?$/, /^\$runbookUrl( := .*)?$/, /^\.Release\.Namespace$/];
    expect(bodies.filter((b) => !vocabulary.some((v) => v.test(b)))).toEqual([]);
    // Nothing brace-like is left outside actions.
    expect(unescaped.replace(/\{\{-?\s*[\s\S]*?\s*-?\}\}/g, '')).not.toMatch(/\{\{|\}\}/);
    expect(out.helm).toContain('{{ "{{" }} $labels.namespace {{ "}}" }}');
    // A source annotation's count of Prometheus templates equals its escaped count.
    const sourceCount = (JSON.stringify(loadSources()).match(/\{\{/g) ?? []).length;
    const body = out.helm.slice(out.helm.indexOf('\nspec:\n'));
    expect((body.match(/\{\{ "\{\{" \}\}/g) ?? []).length).toBe(sourceCount);
  });
});

describe('escapeForHelm', () => {
  test('escapes each brace pair once, whatever surrounds it', () => {
    expect(escapeForHelm('a {{ $value }} b')).toBe('a {{ "{{" }} $value {{ "}}" }} b');
    expect(escapeForHelm('{{{{}}}}')).toBe('{{ "{{" }}{{ "{{" }}{{ "}}" }}{{ "}}" }}');
    expect(escapeForHelm('x{a="}"}')).toBe('x{a="}"}');
  });
});

describe('threshold markers', () => {
  test('find the one number of the marked line, in the rule and the values unit', () => {
    expect(findThresholds('a\n  > 0.1  # threshold: errorRateThreshold')).toMatchObject([
      { key: 'errorRateThreshold', line: 1, literal: '0.1', value: 0.1, unit: '', valuesDefault: '0.1' },
    ]);
    expect(findThresholds('max_over_time(probe_success{a="1", b=~"2.*"}[3m])  # threshold: healthCheckFailures')).toMatchObject([
      { literal: '3m', value: 3, unit: 'm', valuesDefault: '3' },
    ]);
    expect(findThresholds(') > 0.3  # threshold: responseTimeThreshold (ms in values)')).toMatchObject([{ value: 0.3, valuesDefault: '300' }]);
  });

  test('refuse an ambiguous line, an unknown key, or a line without a number', () => {
    expect(() => findThresholds('rate(x[5m]) > 0.1  # threshold: errorRateThreshold')).toThrow(RulesError);
    expect(() => findThresholds('x > 0.1  # threshold: errorRate')).toThrow(/names no seed trigger key/);
    expect(() => findThresholds('x > y  # threshold: cpuThreshold')).toThrow(/exactly one number/);
  });

  test('every trigger alert has exactly its own marker; a receiver rule none', () => {
    const s = loadSources();
    const broken = (mutate: (s: Sources) => void) => {
      const copy = structuredClone(s);
      mutate(copy);
      return () => checkConventions(copy);
    };
    const firstTrigger = (x: Sources) => alertsOf(x.triggers)[0]!;
    expect(broken((x) => (firstTrigger(x).expr = firstTrigger(x).expr.replace(/# threshold: \w+/, '')))).toThrow(/needs exactly one/);
    expect(broken((x) => (firstTrigger(x).labels!.rollback_trigger = 'cpu'))).toThrow(/needs exactly one "# threshold: cpuThreshold"/);
    expect(broken((x) => (firstTrigger(x).labels!.rollback_trigger = 'disk'))).toThrow(/not a default trigger/);
    expect(broken((x) => (alertsOf(x.receiver)[0]!.labels!.rollback_trigger = 'cpu'))).toThrow(/must not carry rollback_trigger/);
    expect(broken((x) => (alertsOf(x.receiver)[0]!.expr = 'up == 0'))).toThrow(/scoped/);
    expect(() => checkConventions(s)).not.toThrow();
  });

  test('the rule file reader refuses what the emitter does not support', () => {
    expect(() => parseRuleFile('groups: [{name: g, rules: [{alert: A, expr: up, foo: 1}]}]', 'x.yml')).toThrow(/unsupported key foo/);
    expect(() => parseRuleFile('groups: [{name: g, rules: [{alert: A, record: b, expr: up}]}]', 'x.yml')).toThrow(/either an alert or a record/);
    expect(() => parseRuleFile('groups: [{name: g, rules: [{alert: A, expr: up, labels: {a: 1}}]}]', 'x.yml')).toThrow(/map names to strings/);
  });
});
