/**
 * One source of truth: the generated PrometheusRule and Helm template are exactly what the
 * generator makes from alert-rules/*.rules.yml, and the generator's conventions (threshold
 * and parameter markers, pod owner blocks, Helm escaping, trigger gating, runbook links) hold.
 */
import { parse } from 'yaml';
import {
  OUTPUTS,
  RulesError,
  SEED_KEYS,
  checkConventions,
  escapeForHelm,
  findParams,
  findPodOwnerBlocks,
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

  test('the Helm template is wrapped in prometheusRule.enabled and the CRD check, and takes metadata from the chart', () => {
    const lines = out.helm.split('\n');
    const firstAction = lines.find((l) => !/^\s*$/.test(l) && !l.startsWith('{{- /*') && !/^[^{]/.test(l));
    expect(firstAction).toBe('{{- if and .Values.prometheusRule.enabled (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/PrometheusRule") }}');
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
    expect(out.helm).toContain('>= {{ include "rollback-receiver.threshold" (list . "healthCheckFailures" "3") }}  # threshold: healthCheckFailures');
  });

  test('marked parameters, pod owner blocks and runbook links become Helm actions', () => {
    expect(out.helm).toContain('[{{ include "rollback-receiver.ruleParam" (list . "healthCheckWindow") }}:{{ include "rollback-receiver.ruleParam" (list . "healthCheckStep") }}]');
    expect(out.helm).toContain('>= {{ include "rollback-receiver.ruleParam" (list . "minRequestRate") }}  # param: minRequestRate');
    expect(out.helm.match(/\{\{- if \$podOwnerRule \}\}/g)).toHaveLength(2);
    expect(out.helm).toContain('label_replace({{ $podOwnerRule }}{workload_type="deployment"}, "deployment", "$1", "workload", "(.*)")');
    const alerts = Object.values(loadSources()).flatMap((f) => alertsOf(f));
    for (const a of alerts) expect(out.helm).toContain(`runbook_url: {{ printf "%s#%s" . "${a.alert!.toLowerCase()}" | quote }}`);
    expect(out.helm.match(/\{\{- with \$runbookUrl \}\}/g)).toHaveLength(alerts.length);
    expect(out.plain).not.toContain('runbook_url');
  });

  test('Prometheus templates survive Helm: every {{ and }} of the sources is escaped, none is left bare', () => {
    // With the two escapes taken out, every remaining action is one the generator writes.
    const unescaped = out.helm.replaceAll('{{ "{{" }}', '').replaceAll('{{ "}}" }}', '');
    const bodies = [...unescaped.matchAll(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g)].map((m) => m[1]!);
    const vocabulary = [
      /^\/\*[\s\S]*\*\/$/,
      /^if /,
      /^else$/,
      /^end$/,
      /^with /,
      /^toYaml \. \| nindent 4$/,
      /^include "rollback-receiver\./,
      /^divf \(include "rollback-receiver\.threshold" /,
      /^\$job( := .*)?$/,
      /^\$runbookUrl := \.Values\.prometheusRule\.runbookUrl$/,
      /^\$podOwnerRule( := \.Values\.prometheusRule\.podOwnerRule)?$/,
      /^printf "%s#%s" \. "\w+" \| quote$/,
      /^\.Release\.Namespace$/,
    ];
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
    expect(() => findThresholds('x > y  # threshold: cpuThreshold')).toThrow(/needs exactly 1 number/);
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

  test('runbook_url and recording rules in the sources are refused with the reason', () => {
    const s = loadSources();
    const withRunbook = structuredClone(s);
    alertsOf(withRunbook.receiver)[0]!.annotations!.runbook_url = 'https://example.com/x';
    expect(() => checkConventions(withRunbook)).toThrow(/leave runbook_url out of the sources; the chart adds it from prometheusRule.runbookUrl/);
    const withRecord = structuredClone(s);
    withRecord.triggers.groups[0]!.rules.push({ record: 'namespace_workload_pod:kube_pod_owner:relabel', expr: 'kube_pod_owner' });
    expect(() => checkConventions(withRecord)).toThrow(/recording rules are not shipped/);
  });

  test('the rule file reader refuses what the emitter does not support', () => {
    expect(() => parseRuleFile('groups: [{name: g, rules: [{alert: A, expr: up, foo: 1}]}]', 'x.yml')).toThrow(/unsupported key foo/);
    expect(() => parseRuleFile('groups: [{name: g, rules: [{alert: A, record: b, expr: up}]}]', 'x.yml')).toThrow(/either an alert or a record/);
    expect(() => parseRuleFile('groups: [{name: g, rules: [{alert: A, expr: up, labels: {a: 1}}]}]', 'x.yml')).toThrow(/map names to strings/);
  });
});

describe('parameter markers', () => {
  test('name the line\'s numbers in order, durations and the colon of a subquery included', () => {
    expect(findParams('x\n  [4m:15s]  # param: healthCheckWindow, healthCheckStep\n  / 60  # param: probeIntervalSeconds')).toMatchObject([
      { name: 'healthCheckWindow', line: 1, literal: '4m', value: 4, unit: 'm' },
      { name: 'healthCheckStep', line: 1, literal: '15s', value: 15, unit: 's' },
      { name: 'probeIntervalSeconds', line: 2, literal: '60', value: 60, unit: '' },
    ]);
  });

  test('refuse an unknown name and a count that does not match the numbers', () => {
    expect(() => findParams('x >= 1  # param: minRequests')).toThrow(/"# param: minRequests" names no rule parameter \(minRequestRate, /);
    expect(() => findParams('rate(x[5m]) >= 1  # param: minRequestRate')).toThrow(/needs exactly 1 number\(s\) .* found 2/);
    expect(() => findParams('[4m]  # param: healthCheckWindow, healthCheckStep')).toThrow(/needs exactly 2 number\(s\) .* found 1/);
  });
});

describe('pod owner blocks', () => {
  test('pair begin and end lines', () => {
    expect(findPodOwnerBlocks('a\n  # pod owner: begin\n  m\n  # pod owner: end\nb')).toEqual([{ begin: 1, end: 3 }]);
  });

  test('refuse unbalanced, nested, empty or inline markers', () => {
    expect(() => findPodOwnerBlocks('# pod owner: begin\nm')).toThrow(/without an end/);
    expect(() => findPodOwnerBlocks('m\n# pod owner: end')).toThrow(/without a begin/);
    expect(() => findPodOwnerBlocks('# pod owner: begin\n# pod owner: begin\nm\n# pod owner: end')).toThrow(/inside the block begun at line 1/);
    expect(() => findPodOwnerBlocks('# pod owner: begin\n# pod owner: end')).toThrow(/empty pod owner block/);
    expect(() => findPodOwnerBlocks('m  # pod owner: begin')).toThrow(/a line of its own/);
  });
});
