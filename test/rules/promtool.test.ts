/**
 * The rule files are what Prometheus loads: promtool must accept them (check rules) and
 * their unit tests must pass (test rules). Each alert has tests that it fires, that it does
 * not, and at its boundary; and the harness itself can fail.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { OUTPUTS, SOURCES, loadSources } from '../../scripts/rules/generate.js';
import { ROOT, alertExpectations, alertsOf, promtool, promtoolTestFiles, read, show } from './support.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'rules-test-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('promtool check rules', () => {
  test.each(Object.values(SOURCES))('%s is a valid rule file', async (file) => {
    const r = await promtool(['check', 'rules', file]);
    if (r.code !== 0) throw new Error(`promtool check rules ${file} failed\n${show(r)}`);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  test(`the spec of ${OUTPUTS.plain} is a valid rule file`, async () => {
    const spec = (parse(read(OUTPUTS.plain)) as { spec: unknown }).spec;
    const file = path.join(tmp, 'prometheusrule-spec.yml');
    writeFileSync(file, stringify(spec));
    const r = await promtool(['check', 'rules', file]);
    if (r.code !== 0) throw new Error(`promtool check rules on the PrometheusRule's spec failed\n${show(r)}`);
    const { triggers, receiver } = loadSources();
    const total = [...triggers.groups, ...receiver.groups].reduce((n, g) => n + g.rules.length, 0);
    expect(r.stdout).toContain(`SUCCESS: ${total} rules found`);
  });
});

describe('promtool test rules', () => {
  test('the test files exist and test the source rule files', () => {
    const files = promtoolTestFiles();
    expect(files.length).toBeGreaterThanOrEqual(2);
    const tested = files.flatMap((f) => (parse(read(f)) as { rule_files: string[] }).rule_files.map((r) => path.posix.join(path.posix.dirname(f), r)));
    expect(new Set(tested)).toEqual(new Set(Object.values(SOURCES)));
  });

  test.each(promtoolTestFiles())('%s passes', async (file) => {
    const r = await promtool(['test', 'rules', file]);
    if (r.code !== 0) throw new Error(`promtool test rules ${file} failed\n${show(r)}`);
    expect(r.stdout).toContain('SUCCESS');
  });

  // Fires, does not fire, and a boundary (exactly at the threshold, or one evaluation
  // before `for:`/the window ends) that does not fire either: at least one expectation
  // with alerts and two without, for every alert of both files.
  test.each(Object.entries(SOURCES))('every %s alert has firing, non-firing and boundary tests', (kind) => {
    const expectations = alertExpectations();
    const missing: string[] = [];
    for (const rule of alertsOf(loadSources()[kind as keyof typeof SOURCES])) {
      const mine = expectations.filter((e) => e.alertname === rule.alert);
      const firing = mine.filter((e) => e.alerts.length > 0).length;
      const quiet = mine.filter((e) => e.alerts.length === 0).length;
      if (firing < 1 || quiet < 2) missing.push(`${rule.alert}: ${firing} firing, ${quiet} non-firing expectations`);
    }
    expect(missing).toEqual([]);
  });

  test('every expectation names an alert that exists', () => {
    const names = new Set(Object.values(loadSources()).flatMap((f) => alertsOf(f).map((r) => r.alert)));
    expect(alertExpectations().filter((e) => !names.has(e.alertname)).map((e) => `${e.file}: ${e.test}: ${e.alertname}`)).toEqual([]);
  });
});

describe('the harness can fail', () => {
  test('promtool test rules exits non-zero on a wrong expectation, and says which', async () => {
    const file = path.join(tmp, 'wrong.test.yml');
    writeFileSync(
      file,
      stringify({
        rule_files: [path.join(ROOT, SOURCES.triggers)],
        evaluation_interval: '1m',
        tests: [
          {
            name: 'deliberately wrong: a healthy deployment expected to fire',
            interval: '1m',
            input_series: [{ series: 'probe_success{namespace="prod", deployment="api"}', values: '1x10' }],
            alert_rule_test: [
              {
                eval_time: '10m',
                alertname: 'RollbackHealthCheckFailing',
                exp_alerts: [{ exp_labels: { rollback_trigger: 'health_check', namespace: 'prod', deployment: 'api', severity: 'critical' } }],
              },
            ],
          },
        ],
      }),
    );
    const r = await promtool(['test', 'rules', file]);
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain('FAILED');
    expect(`${r.stdout}${r.stderr}`).toContain('RollbackHealthCheckFailing');
  });

  test('promtool check rules exits non-zero on a broken expression', async () => {
    const file = path.join(tmp, 'broken.rules.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'g', rules: [{ alert: 'Broken', expr: 'sum by (namespace (up' }] }] }));
    const r = await promtool(['check', 'rules', file]);
    expect(r.code).not.toBe(0);
  });
});
