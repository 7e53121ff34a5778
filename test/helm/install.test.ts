/**
 * The README's "Install" section is what an SRE pastes: its receiver values render with the
 * chart, its Secret command, the chart's Secret reference and Alertmanager's mounted file
 * agree, and its kube-prometheus-stack values give Alertmanager a configuration that
 * `amtool` (Debian's prometheus-alertmanager, as the tests' Alertmanager) accepts and that
 * routes rollback alerts to the receiver first and everything else as before. NOTES.txt
 * prints the same route and receiver.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { ROOT, only, ofKind, render, renderNotes } from './chart.js';

const AMTOOL = process.env.AMTOOL_BIN || 'amtool';

interface Route {
  receiver: string;
  matchers?: string[];
  group_by?: string[];
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  continue?: boolean;
  routes?: Route[];
}
interface WebhookReceiver {
  name: string;
  webhook_configs?: { url: string; send_resolved: boolean; http_config: { authorization: { type: string; credentials_file: string } } }[];
}
interface KpsValues {
  alertmanager: { alertmanagerSpec: { secrets: string[] }; config: { route: Route; receivers: WebhookReceiver[] } };
}

/** The fenced blocks of the README's "## Install" section, in order. */
function installBlocks(): { lang: string; text: string }[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = /^## Install\n([\s\S]*?)^## /m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Install" section');
  return [...section.matchAll(/^( *)```(\w+)\n([\s\S]*?)^\1```$/gm)].map((m) => ({ lang: m[2]!, text: m[3]!.replace(new RegExp(`^${m[1]}`, 'gm'), '') }));
}

const blocks = installBlocks();
const yamlBlocks = blocks.filter((b) => b.lang === 'yaml').map((b) => parse(b.text) as Record<string, unknown>);
const shell = blocks
  .filter((b) => b.lang === 'sh')
  .map((b) => b.text.replace(/\\\n\s*/g, ''))
  .join('\n');
const receiverValues = yamlBlocks.find((v) => 'auth' in v)!;
const kps = yamlBlocks.find((v) => 'alertmanager' in v) as unknown as KpsValues;

/** `helm upgrade --install NAME CHART -n NS -f FILE` of the section. */
const helm = /helm upgrade --install (\S+) (\S+) -n (\S+) -f (\S+)/.exec(shell)!;
const [, release, chartPath, namespace] = helm;
const manifests = render({ release, namespace, required: {}, values: receiverValues });
const rollbackRoute = kps.alertmanager.config.route.routes![0]!;
const rollbackReceiver = kps.alertmanager.config.receivers.find((r) => r.name === rollbackRoute.receiver)!;

function amtool(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    execFile(AMTOOL, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`${AMTOOL} not found: install Debian's prometheus-alertmanager package, or set AMTOOL_BIN`));
        return;
      }
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

let tmp: string;
let amConfig: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'install-'));
  amConfig = path.join(tmp, 'alertmanager.yaml');
  fs.writeFileSync(amConfig, stringify(kps.alertmanager.config));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the section has the Secret command, the receiver values, the helm command and the kube-prometheus-stack values', () => {
  expect(blocks.map((b) => b.lang)).toEqual(['sh', 'yaml', 'sh', 'yaml']);
  expect(path.resolve(ROOT, chartPath!)).toBe(path.join(ROOT, 'helm/rollback-receiver'));
  expect(receiverValues).toMatchObject({ auth: { existingSecret: expect.any(String) }, rbac: { namespaces: expect.any(Array) } });
});

test('the receiver values render: namespaced RBAC, the kubernetes mode\'s state Role in the release namespace, dry-run, the token from the Secret the command creates', () => {
  const secretCommand = /kubectl -n (\S+) create secret generic (\S+) --from-literal=([\w-]+)=/.exec(shell)!;
  const [, secretNamespace, secretName, secretKey] = secretCommand;
  expect(secretNamespace).toBe(namespace);
  const pod = only<V1Deployment>(manifests, 'Deployment').spec!.template.spec!;
  const tokens = pod.volumes!.find((v) => v.secret)!.secret!;
  expect(tokens).toMatchObject({ secretName, items: [{ key: secretKey, path: 'webhook-token' }] });
  expect(ofKind(manifests, 'Secret')).toHaveLength(0);
  const roles = ofKind(manifests, 'Role');
  expect(roles.filter((r) => !r.metadata.name.endsWith('-state')).map((r) => r.metadata.namespace)).toEqual((receiverValues.rbac as { namespaces: string[] }).namespaces);
  expect(roles.filter((r) => r.metadata.name.endsWith('-state')).map((r) => r.metadata.namespace)).toEqual([namespace]);
  expect(only<V1Deployment>(manifests, 'Deployment').spec!.replicas).toBe(2);
  expect(ofKind(manifests, 'ClusterRole')).toHaveLength(0);
  expect(pod.containers[0]!.env!.find((e) => e.name === 'ROLLBACK_DRY_RUN')!.value).toBe('true');
  const rule = only(manifests, 'PrometheusRule') as unknown as { spec: { groups: { rules: { alert: string; annotations: Record<string, string> }[] }[] } };
  for (const r of rule.spec.groups.flatMap((g) => g.rules)) expect(r.annotations.runbook_url).toMatch(/^https:\/\/.+#rollback\w+$/);

  // Alertmanager mounts the same Secret, and reads the key the receiver reads.
  expect(kps.alertmanager.alertmanagerSpec.secrets).toContain(secretName);
  expect(rollbackReceiver.webhook_configs![0]!.http_config.authorization).toEqual({
    type: 'Bearer',
    credentials_file: `/etc/alertmanager/secrets/${secretName}/${secretKey}`,
  });
});

test('the webhook URL is the rendered Service', () => {
  const svc = only<V1Service>(manifests, 'Service');
  expect(rollbackReceiver.webhook_configs![0]!.url).toBe(`http://${svc.metadata!.name}.${namespace}.svc:${svc.spec!.ports![0]!.port}/webhook`);
  expect(rollbackReceiver.webhook_configs![0]!.send_resolved).toBe(true);
});

test('the rollback route comes first, groups by the target labels, waits briefly and continues', () => {
  expect(rollbackRoute).toEqual({
    receiver: 'rollback-receiver',
    matchers: ['rollback_trigger=~".+"'],
    group_by: ['namespace', 'rollback_target', 'deployment', 'release', 'service'],
    group_wait: '10s',
    group_interval: '30s',
    repeat_interval: '1h',
    continue: true,
  });
});

test('amtool accepts the Alertmanager configuration', async () => {
  const r = await amtool(['check-config', amConfig]);
  expect(r.out).toContain('SUCCESS');
  expect(r.code).toBe(0);
});

test.each([
  ['a rollback trigger alert', ['alertname=RollbackErrorRateHigh', 'rollback_trigger=error_rate', 'namespace=rust-ai-ide-prod', 'deployment=rust-ai-ide'], 'rollback-receiver'],
  ['the Watchdog', ['alertname=Watchdog'], 'null'],
  ['any other alert', ['alertname=KubePodCrashLooping', 'namespace=rust-ai-ide-prod'], 'null'],
])('amtool routes %s to %s', async (_what, labels, receiver) => {
  const r = await amtool(['config', 'routes', 'test', `--config.file=${amConfig}`, `--verify.receivers=${receiver}`, ...labels]);
  expect(r.out.split('\n').filter((l) => l && !l.startsWith('Warning:'))).toEqual([receiver]);
  expect(r.code).toBe(0);
});

test('NOTES.txt prints the same route, receiver and Secret for this release', () => {
  const notes = renderNotes({ release, namespace, required: {}, values: receiverValues });
  const snippet = /^( {4}alertmanager:\n[\s\S]*?credentials_file: .*)$/m.exec(notes)![1]!;
  const printed = parse(snippet.replace(/^ {4}/gm, '')) as KpsValues;
  expect(printed.alertmanager.alertmanagerSpec.secrets).toEqual(kps.alertmanager.alertmanagerSpec.secrets);
  expect(printed.alertmanager.config.route.routes).toEqual([rollbackRoute]);
  expect(printed.alertmanager.config.receivers).toEqual([rollbackReceiver]);
  expect(notes).not.toContain('<no value>');
});
