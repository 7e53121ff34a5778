/**
 * src/kube/rbac-rules.yaml is the one source of the executor's permissions. Helm's
 * .Files.Get cannot read outside the chart, so the chart keeps a copy at
 * helm/rollback-receiver/files/rbac-rules.yaml: it must stay byte-identical
 * (after editing the source: cp src/kube/rbac-rules.yaml helm/rollback-receiver/files/).
 */
import fs from 'node:fs';
import path from 'node:path';
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
