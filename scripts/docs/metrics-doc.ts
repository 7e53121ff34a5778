/**
 * docs/metrics.md from the prom-client registry of src/metrics.ts: every metric the
 * receiver exports, with its type, labels, help text, and the label values it starts
 * with (known series start at 0 so rate() and absent() work from the first scrape).
 */
import { loadConfig } from '../../src/config/load.js';
import { ESCALATION_REASONS, Metrics } from '../../src/metrics.js';
import { GENERATED_NOTE, markdownTable } from './markdown.js';

/** Labels whose values describe the running process, not a closed set: explained in prose instead of listed. */
const RUNTIME_LABELS = new Set(['version', 'dry_run']);

/** Label values depend on the config only for `trigger`: the defaults are shown. */
export async function metricsDoc(): Promise<string> {
  const defaults = loadConfig(undefined, {});
  const metrics = new Metrics({ triggers: defaults.rollback.triggers.map((t) => t.name), defaultMetrics: false });
  const rows: string[][] = [];
  const details: string[] = [];
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    const labelNames = (metrics.registry.getSingleMetric(m.name) as unknown as { labelNames: readonly string[] }).labelNames;
    rows.push([`\`${m.name}\``, String(m.type), labelNames.map((l) => `\`${l}\``).join(', ') || '—', m.help]);
    const known = labelNames
      .filter((label) => !RUNTIME_LABELS.has(label))
      .map((label) => {
        const values = [...new Set(m.values.map((v) => v.labels[label]).filter((v): v is string | number => v !== undefined).map(String))];
        return values.length ? `- \`${label}\`: ${values.map((v) => `\`${v}\``).join(', ')}` : '';
      })
      .filter(Boolean);
    if (known.length) details.push(`### \`${m.name}\``, '', 'Series that exist from the start (at 0):', '', ...known, '');
  }
  return [
    '# Metrics',
    '',
    GENERATED_NOTE('the prom-client registry in `src/metrics.ts`'),
    '',
    'Exported on `GET /metrics` (no credentials), with prom-client\'s default process metrics (`process_*`, `nodejs_*`). Names and labels are a contract: the dashboards and alert rules in this repository use them.',
    '',
    markdownTable(['metric', 'type', 'labels', 'meaning'], rows),
    '',
    '## Label values',
    '',
    `\`trigger\` values are the configured trigger names (the defaults are shown) and \`none\` for alerts no trigger matched. \`reason\` of \`rollback_escalations_total\` is one of ${ESCALATION_REASONS.map((r) => `\`${r}\``).join(', ')}: [runbook.md](runbook.md) says what to do about each. \`rollback_build_info\` carries the package \`version\` and \`dry_run\` (\`true\` or \`false\`).`,
    '',
    ...details,
  ].join('\n');
}
