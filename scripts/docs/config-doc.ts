/**
 * docs/configuration.md from the zod schema that validates the config file: every key
 * with its type, default and validation rules (from the schema, via z.toJSONSchema), and
 * what it is for (config-keys.ts).
 */
import { configFileSchema, namedTrigger, seedTrigger } from '../../src/config/schema.js';
import { CONFIG_KEYS } from './config-keys.js';
import { GENERATED_NOTE, markdownTable } from './markdown.js';
import { keysOf, rulesOf, toJson, typeOf, type Row } from './schema-table.js';

/** `notifications.*.events` describes `notifications.slack.events` and the other channels'. */
function descriptionOf(keys: Record<string, string>, key: string, used: Set<string>): string | undefined {
  const segments = key.split('.');
  const match = Object.keys(keys).find((pattern) => {
    if (pattern === key) return true;
    const p = pattern.split('.');
    return p.length === segments.length && p.every((seg, i) => seg === segments[i] || (seg === '*' && !segments[i]!.includes('[')));
  });
  if (match === undefined) return undefined;
  used.add(match);
  return keys[match];
}

function configurationRows(): Row[] {
  const root = toJson(configFileSchema);
  // The trigger list's entries are validated by one of two schemas (z.unknown + transform): document both forms.
  const triggers = root.properties!.rollback!.properties!.triggers!;
  triggers.items = { anyOf: [toJson(namedTrigger), toJson(seedTrigger)] };
  const rows: Row[] = [];
  keysOf(root, '', rows);
  return rows;
}

/** @param keys what each key is for; every key of the schema needs one, and each must name a key. */
export function configurationDoc(keys: Record<string, string> = CONFIG_KEYS): string {
  const rows = configurationRows();
  const used = new Set<string>();
  const missing: string[] = [];
  const body: string[] = [];
  for (const section of rows.filter((r) => !r.key.includes('.'))) {
    body.push(`## \`${section.key}\``, '', descriptionOf(keys, section.key, used) ?? '', '');
    const table = rows
      .filter((r) => r.key.startsWith(`${section.key}.`) || r.key.startsWith(`${section.key}[]`))
      .map((r) => {
        const description = descriptionOf(keys, r.key, used);
        if (description === undefined) missing.push(r.key);
        const display = r.key.replaceAll('*', '<name>');
        return [
          `\`${display}\``,
          typeOf(r.schema),
          r.schema.default === undefined ? (r.required ? 'required' : '—') : `\`${JSON.stringify(r.schema.default)}\``,
          rulesOf(r.schema).join('; '),
          description ?? '',
        ];
      });
    if (table.length) body.push(markdownTable(['key', 'type', 'default', 'rules', 'what it does'], table), '');
    if (descriptionOf(keys, section.key, used) === undefined) missing.push(section.key);
  }
  const stale = Object.keys(keys).filter((k) => !used.has(k));
  if (missing.length || stale.length) {
    throw new Error(
      [
        ...(missing.length ? [`scripts/docs/config-keys.ts has no description for: ${missing.join(', ')}`] : []),
        ...(stale.length ? [`scripts/docs/config-keys.ts describes keys the schema does not have: ${stale.join(', ')}`] : []),
      ].join('\n'),
    );
  }
  return [
    '# Configuration',
    '',
    GENERATED_NOTE('`src/config/schema.ts` (the zod schema that validates the file) and `scripts/docs/config-keys.ts`'),
    '',
    'One YAML file, `--config PATH` or `ROLLBACK_CONFIG`, validated when the receiver starts: a bad file stops it with one line per problem, each naming the key. `rollback-receiver check-config --config FILE` validates a file and prints what it enables. With no file at all the receiver runs on the defaults below: dry-run, state under `./data`, the five default triggers.',
    '',
    'Unknown keys are errors, so a typo never silently turns a guard off. A `duration` is seconds (`300`) or a Prometheus-style string (`90s`, `5m`, `1h30m`, `7d`). A `secret` is `{value: …}`, `{env: VAR}` or `{file: /path}` (a mounted Secret): secret values never appear in logs or error messages.',
    '',
    '## Environment',
    '',
    markdownTable(
      ['variable', 'what it does'],
      [
        ['`ROLLBACK_CONFIG`', 'the config file, when `--config` is not given'],
        ['`PORT`', 'listen port; overrides `server.port` (default 9095)'],
        ['`ROLLBACK_STATE_DIR`', 'state directory; overrides `store.dir` (default `./data`)'],
        ['`ROLLBACK_DRY_RUN`', '`true` or `false`; overrides `rollback.dryRun`'],
        ['`PROMETHEUS_URL`', 'overrides `monitoring.enhanced.prometheusUrl` (default `http://127.0.0.1:9090`)'],
        ['`LOG_LEVEL`', 'pino log level (default `info`)'],
        ['`ROLLBACK_WEBHOOK_TOKEN`, `ROLLBACK_WEBHOOK_TOKEN_FILE`', 'the token `/webhook` requires (bearer, or basic auth with the token as password); live mode needs one'],
        ['`ROLLBACK_OPERATOR_TOKEN`, `ROLLBACK_OPERATOR_TOKEN_FILE`', 'the token the operator API, the status page and the CLI use'],
        ['`KUBECONFIG`', 'the cluster (else `~/.kube/config`, else the in-cluster service account)'],
      ],
    ),
    '',
    ...body,
  ].join('\n');
}
