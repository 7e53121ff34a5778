/**
 * `npm run demo`: the whole rollback chain on this machine, with real components on
 * loopback, narrated for a newcomer. It starts a Kubernetes control plane (envtest style),
 * the application (a metrics exporter), Prometheus with the project's alert rules,
 * Alertmanager and the real `rollback-receiver serve` process (scripts/demo/chain.ts), then
 * plays an incident: a broken rollout serves errors, the error-rate alert fires, the
 * receiver rolls the Deployment back, watches it recover and writes the incident report.
 * Then it stops everything and checks that no process it started is left.
 *
 * Exactly the chain and scenario test/e2e/chain.test.ts asserts on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CoreV1Api } from '@kubernetes/client-node';
import { startCluster, type Cluster } from '../../test/envtest/cluster.js';
import type { ClusterConnection } from '../../test/envtest/connect.js';
import { waitFor } from '../../test/envtest/wait.js';
import { ROOT } from '../../test/support/process.js';
import {
  AM_TIMING,
  BAD_ERROR_RATIO,
  ERROR_RATE_ALERT,
  GOOD_ERROR_RATIO,
  OPERATOR_TOKEN,
  WINDOW,
  observe,
  runScenario,
  startChain,
  type Chain,
  type ChainEvent,
} from './chain.js';

const t0 = Date.now();
const out = (line = '') => process.stdout.write(`${line}\n`);

function stamp(at: number): string {
  const d = new Date(at);
  const hms = d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0');
  const rel = ((at - t0) / 1000).toFixed(1);
  return `${hms} +${rel.padStart(5)}s`;
}

const LABEL: Record<ChainEvent['source'] | 'demo', string> = {
  demo: 'demo',
  scenario: 'scenario',
  kubernetes: 'kubernetes',
  prometheus: 'prometheus',
  alertmanager: 'alertmanager',
  receiver: 'receiver',
};

function print(e: ChainEvent | { at: number; source: 'demo'; text: string; detail?: string[] }): void {
  out(`${stamp(e.at)}  ${LABEL[e.source].padEnd(12)}  ${e.text}`);
  for (const d of e.detail ?? []) out(`${' '.repeat(35)}${d}`);
}
const say = (text: string) => print({ at: Date.now(), source: 'demo', text });

function missingBinaries(): string[] {
  return ['prometheus', 'prometheus-alertmanager'].filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
}

/** Pids of processes whose command line mentions one of `dirs` (not zombies). */
function processesUsing(dirs: string[]): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const zombie = stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
      if (!zombie && dirs.some((d) => cmd.includes(d))) found.push(`${pid} ${cmd.slice(0, 120)}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

function connection(cluster: Cluster): ClusterConnection {
  const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
  return {
    server: cluster.server,
    caData: cluster.caData,
    adminToken: cluster.adminToken,
    restrictedToken: cluster.restrictedToken,
    restrictedUser: cluster.restrictedUser,
    kubeconfigPath: cluster.kubeconfigPath,
    kubeConfig: (token) => cluster.kubeConfig(token),
    writeKubeconfig: (file, token) => cluster.writeKubeconfig(file, token),
    async ns(name = 'demo') {
      await core.createNamespace({ body: { metadata: { name } } });
      await waitFor(async () => ((await core.readNamespacedServiceAccount({ name: 'default', namespace: name })).secrets?.length ?? 0) > 0, 30_000, {
        description: `default ServiceAccount in ${name}`,
      });
      return name;
    },
    async deleteNs(name) {
      await core.deleteNamespace({ name });
    },
    stopApiServer: () => cluster.stopApiServer(),
    startApiServer: () => cluster.startApiServer(),
  };
}

let cluster: Cluster | undefined;
let chain: Chain | undefined;
let stopObserving: (() => Promise<void>) | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopObserving?.().catch(() => undefined);
    await chain?.stop().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
  })();
  return cleaning;
}

let finishing: Promise<never> | undefined;
let interrupted = false;

/** Stops everything, checks /proc for anything left that the demo started, and exits (once). */
function finish(failed: boolean): Promise<never> {
  finishing ??= finishOnce(failed);
  return finishing;
}

async function finishOnce(failed: boolean): Promise<never> {
  const dirs = [cluster?.tmpDir, chain?.prometheus.tmpDir, chain?.alertmanager.tmpDir, chain?.receiver.tmpDir].filter((d): d is string => !!d);
  say('stopping everything ...');
  await cleanup();
  const left = await waitFor(() => (processesUsing(dirs).length === 0 ? 'none' : undefined), 10_000, { intervalMs: 200 }).catch(() => processesUsing(dirs).join('; '));
  say(left === 'none' ? `stopped: no process of the demo is left (checked /proc), temp dirs removed: ${dirs.every((d) => !fs.existsSync(d))}` : `LEFT RUNNING: ${left}`);
  return process.exit(failed || left !== 'none' ? 1 : 0);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    interrupted = true;
    out();
    say(`${sig}: interrupted`);
    void finish(true);
  });
}

async function main(): Promise<void> {
  out('rollback-receiver demo: Prometheus alert → Alertmanager → rollback-receiver → Kubernetes rollback, for real, on loopback.');
  out('Needs: the Kubernetes test binaries (etcd, kube-apiserver, kube-controller-manager) from scripts/envtest/assets.sh —');
  out('       $KUBEBUILDER_ASSETS, or built from Debian once and cached under /var/cache/rollback-receiver/envtest (about 4 minutes');
  out("       the first time) — and Debian's packages prometheus and prometheus-alertmanager. Takes about 30 s; leaves nothing running.");
  out();
  const missing = missingBinaries();
  if (missing.length) {
    throw new Error(`missing ${missing.join(', ')}: apt-get install -y prometheus prometheus-alertmanager (or set PROMETHEUS_BIN / ALERTMANAGER_BIN)`);
  }

  say('starting the Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, a kubelet stand-in) ...');
  cluster = await startCluster({ assetsScript: path.join(ROOT, 'scripts/envtest/assets.sh') });
  say(`Kubernetes API at ${cluster.server} (started in ${(cluster.startMs / 1000).toFixed(1)} s); pods with an image tagged :broken never become Ready`);
  const conn = connection(cluster);
  const ns = await conn.ns('demo');

  say('starting the application (metrics exporter), Alertmanager, Prometheus and rollback-receiver ...');
  chain = await startChain({ cluster: conn, namespace: ns });
  const c = chain;
  say(`application metrics    ${c.exporter.url}/metrics   (http_requests_total{namespace="${ns}",deployment="${c.name}",code})`);
  say(`Prometheus 2.42        ${c.prometheus.url}   rules: alert-rules/*.rules.yml with every "for:" shortened (minutes → seconds)`);
  say(`Alertmanager 0.25      ${c.alertmanager.url}   rollback_trigger=~".+" → receiver, bearer token from a credentials_file (group_wait ${AM_TIMING.group_wait}, repeat_interval ${AM_TIMING.repeat_interval})`);
  say(`rollback-receiver      ${c.receiver.url}   live mode, RBAC: exactly src/kube/rbac-rules.yaml, monitoring window ${WINDOW.duration} every ${WINDOW.interval}`);
  say(`  try: curl -H 'Authorization: Bearer ${OPERATOR_TOKEN}' ${c.receiver.url}/api/v1/decisions   (while the demo runs)`);
  out();

  stopObserving = observe(c, print);
  const r = await runScenario(c, (text) => print({ at: Date.now(), source: 'scenario', text }));
  await stopObserving();
  stopObserving = undefined;
  out();

  const decisions = await c.decisions();
  const count = (d: string) => decisions.filter((x) => x.decision === d).length;
  say(
    `summary: ${ERROR_RATE_ALERT} fired at ${(BAD_ERROR_RATIO * 100).toFixed(0)}% errors; the receiver decided executed once, ` +
      `${count('duplicate')} duplicate(s) for Alertmanager's re-sends, then resolved; ` +
      `rollback ${r.rollback.status} in ${((Date.parse(r.rollback.finishedAt!) - Date.parse(r.executed.at)) / 1000).toFixed(1)} s ` +
      `(errors back to ${(GOOD_ERROR_RATIO * 100).toFixed(0)}%), monitoring window ${r.window.status}`,
  );
  const events = (await c.workloads.events(ns, c.name)).map((e) => e.reason);
  say(`kubectl describe deployment/${c.name} would show the Events: ${events.join(', ')}`);
  const metrics = (await c.metrics())
    .split('\n')
    .filter((l) => /^rollback_(executions_total|alerts_total|webhooks_received_total|monitoring_breaches_total)\{/.test(l) && !/ 0$/.test(l));
  say('receiver metrics (non-zero):');
  for (const l of metrics) out(`${' '.repeat(35)}${l}`);

  const report = await c.report(r.rollbackId);
  const file = path.join(os.tmpdir(), `rollback-receiver-demo-report-${r.rollbackId}.md`);
  fs.writeFileSync(file, report);
  say(`incident report: ${file} (GET ${c.receiver.url}/api/v1/rollbacks/${r.rollbackId}/report); its first lines:`);
  for (const l of report.split('\n').slice(0, 12)) out(`${' '.repeat(35)}${l}`);
  const timeline = report.slice(report.indexOf('## Timeline')).split('\n## ')[0]!.split('\n').filter((l) => l.startsWith('| 2'));
  say(`... and its timeline (${timeline.length} rows), first and last:`);
  for (const l of [...timeline.slice(0, 4), '| ... |', ...timeline.slice(-2)]) out(`${' '.repeat(35)}${l}`);
  out();
}

let failed = false;
try {
  await main();
} catch (e) {
  failed = true;
  if (interrupted) await finish(true); // already stopping: the error is the interruption's
  out();
  say(`FAILED: ${e instanceof Error ? e.message : String(e)}`);
  if (chain) {
    out('--- receiver log (tail) ---');
    out(chain.receiver.logTail(20));
  }
}
await finish(failed);
