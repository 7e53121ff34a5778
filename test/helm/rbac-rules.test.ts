/**
 * src/kube/rbac-rules.yaml (the executor's permissions in the target namespaces) and
 * src/kube/rbac-rules-state.yaml (the Kubernetes state backend's in the receiver's own) are
 * the one source of the receiver's permissions. Helm's .Files.Get cannot read outside the
 * chart, so the chart keeps copies under helm/rollback-receiver/files/: they must stay
 * byte-identical (after editing a source: cp src/kube/rbac-rules*.yaml helm/rollback-receiver/files/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { SUPPORTED_RESOURCES } from '../../src/execution/helm/kinds.js';
import { CHART_DIR, ROOT } from './chart.js';

const COPIES: [file: string, template: string][] = [
  ['rbac-rules.yaml', 'rbac.yaml'],
  ['rbac-rules-state.yaml', 'rbac-state.yaml'],
  ['rbac-rules-argocd.yaml', 'rbac-gitops.yaml'],
  ['rbac-rules-flux.yaml', 'rbac-gitops.yaml'],
];

test.each(COPIES)("the chart's files/%s is byte-identical to src/kube/'s", (file) => {
  const source = fs.readFileSync(path.join(ROOT, 'src/kube', file));
  const copy = fs.readFileSync(path.join(CHART_DIR, 'files', file));
  expect(copy.equals(source)).toBe(true);
});

test('the chart renders RBAC from those files only (no rules written into the templates)', () => {
  const templates = fs.readdirSync(path.join(CHART_DIR, 'templates'));
  for (const t of templates) {
    const text = fs.readFileSync(path.join(CHART_DIR, 'templates', t), 'utf8');
    expect([t, /\bverbs\s*:/.test(text)]).toEqual([t, false]);
  }
  for (const [file, template] of COPIES) {
    expect(fs.readFileSync(path.join(CHART_DIR, 'templates', template), 'utf8')).toContain(`.Files.Get "files/${file}"`);
  }
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
