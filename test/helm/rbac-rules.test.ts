/**
 * src/kube/rbac-rules.yaml is the one source of the executor's permissions. Helm's
 * .Files.Get cannot read outside the chart, so the chart keeps a copy at
 * helm/rollback-receiver/files/rbac-rules.yaml: it must stay byte-identical
 * (after editing the source: cp src/kube/rbac-rules.yaml helm/rollback-receiver/files/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SUPPORTED_RESOURCES } from '../../src/execution/helm/kinds.js';
import { CHART_DIR, ROOT } from './chart.js';

test('the chart\'s files/rbac-rules.yaml is byte-identical to src/kube/rbac-rules.yaml', () => {
  const source = fs.readFileSync(path.join(ROOT, 'src/kube/rbac-rules.yaml'));
  const copy = fs.readFileSync(path.join(CHART_DIR, 'files/rbac-rules.yaml'));
  expect(copy.equals(source)).toBe(true);
});

test('the chart renders RBAC from that file only (no rules written into the templates)', () => {
  const templates = fs.readdirSync(path.join(CHART_DIR, 'templates'));
  for (const t of templates) {
    const text = fs.readFileSync(path.join(CHART_DIR, 'templates', t), 'utf8');
    expect([t, /\bverbs\s*:/.test(text)]).toEqual([t, false]);
  }
  expect(fs.readFileSync(path.join(CHART_DIR, 'templates/rbac.yaml'), 'utf8')).toContain('.Files.Get "files/rbac-rules.yaml"');
});

test('the rules grant writes (create, patch, delete) on exactly the kinds the helm strategy restores, and on its release Secrets', () => {
  const rules = parse(fs.readFileSync(path.join(ROOT, 'src/kube/rbac-rules.yaml'), 'utf8')) as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  const granted = (verb: string) =>
    [...new Set(rules.filter((r) => r.verbs.includes(verb)).flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`))))].sort();
  const supported = SUPPORTED_RESOURCES.map((r) => `${r.group}/${r.resource}`).sort();
  expect(granted('delete')).toEqual(supported);
  expect(granted('create').filter((r) => r !== '/events')).toEqual(supported);
  // The helm strategy reads release history by label: list on Secrets.
  expect(granted('list')).toContain('/secrets');
});
