/**
 * The whole alerting chain on loopback, with real components, shared by `npm run demo`
 * (scripts/demo/demo.ts, which prints it) and test/e2e/chain.test.ts (which asserts on it):
 *
 *   exporter (plays the application: http_requests_total{namespace,deployment,code})
 *     → Prometheus 2.42 evaluating the project's own alert-rules/*.rules.yml (test copy:
 *       every `for:` shortened, minutes become seconds; nothing else changed)
 *     → Alertmanager 0.25 routing `rollback_trigger=~".+"` to the receiver's /webhook with
 *       `http_config.authorization.credentials_file` (group_wait 1s, group_interval 1s,
 *       repeat_interval 2s)
 *     → the real `rollback-receiver serve` process, live (ROLLBACK_DRY_RUN=false), with a
 *       webhook and an operator token, a kubeconfig for a user that has exactly
 *       src/kube/rbac-rules.yaml in the namespace, probes and a short monitoring window
 *       against that Prometheus, Slack notifications to a local recording server
 *     → the Deployment in the (envtest) kube-apiserver.
 *
 * The receiver's port is picked first, so Alertmanager's webhook URL and Prometheus's
 * scrape job for the receiver are in their configs from the start (no reloads). Every
 * process runs under test/support/daemon.ts: own process group, log file, exit hook and
 * watchdog, so nothing outlives the Node process that started it.
 *
 * observe() turns what each component shows into one timeline of events (Kubernetes,
 * Prometheus, Alertmanager, receiver); runScenario() plays the incident.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import YAML from 'yaml';
import { startAlertmanager, type RunningAlertmanager } from '../../test/alertmanager/harness.js';
import type { ClusterConnection } from '../../test/envtest/connect.js';
import { waitFor } from '../../test/envtest/wait.js';
import { OPT_IN, Workloads } from '../../test/envtest/workloads.js';
import { startExporter, type Exporter } from '../../test/prometheus/exporter.js';
import { startPrometheus, type RunningPrometheus } from '../../test/prometheus/harness.js';
import { startRecordingServer, type RecordingServer } from '../../test/prometheus/recording-server.js';
import { freePort, sleep, type Daemon } from '../../test/support/daemon.js';
import { receiverProcess } from '../../test/support/receiver-process.js';
import { ROOT } from '../../test/support/process.js';

// ------------------------------------------------------------------ settings

export const WEBHOOK_TOKEN = 'chain-webhook-token';
export const OPERATOR_TOKEN = 'chain-operator-token';
export const RULE_FILES = ['rollback-triggers.rules.yml', 'rollback-receiver.rules.yml'] as const;
export const ERROR_RATE_ALERT = 'RollbackErrorRateHigh';

/** The application: requests per second, and the share of 5xx for the good and the broken version. */
export const RPS = 50;
export const GOOD_ERROR_RATIO = 0.01;
/**
 * The broken version's share of 5xx. The rule's ratio is over 5 minutes, i.e. over every
 * request Prometheus has seen here: it crosses 10 % soon after the errors start, and falls
 * back under it once v1 has served cleanly ~3.3 times as long as the broken version served
 * errors. That keeps the alert firing ~10 s after the rollback, long enough for several
 * Alertmanager re-sends (repeat_interval 2 s), which the receiver must answer `duplicate`.
 */
export const BAD_ERROR_RATIO = 0.4;

/** Alertmanager's timing: re-sends every 2 s while firing (each one a `duplicate` for the receiver). */
export const AM_TIMING = { group_wait: '1s', group_interval: '1s', repeat_interval: '2s' } as const;

/**
 * The monitoring window: samples every second for a few seconds, rates over at most 3 s and
 * never reaching back before the rollback (the first sample waits minRateWindow).
 */
export const WINDOW = { duration: '6s', interval: '1s', rateWindow: '3s', minRateWindow: '2s' } as const;

// ------------------------------------------------------------------ rules

/** 5m → 5s, 1h → 1m: minutes become seconds (at least 1 s). */
function shorter(v: string): string {
  const m = /^(\d+)([smh])$/.exec(v);
  if (!m) throw new Error(`shortenFor: cannot shorten for: ${v}`);
  const n = Number(m[1]);
  return m[2] === 'h' ? `${n}m` : m[2] === 'm' ? `${n}s` : `${Math.max(1, Math.round(n / 60))}s`;
}

/**
 * `for: 5m` → `for: 5s` (minutes become seconds, hours minutes). The yaml package finds
 * each `for` value and its place in the text; only those characters change, so the copy
 * is byte for byte the project's file otherwise.
 */
export function shortenFor(text: string): string {
  const doc = YAML.parseDocument(text);
  const edits: { start: number; end: number; value: string }[] = [];
  YAML.visit(doc, {
    Pair(_, pair) {
      if (!YAML.isScalar(pair.key) || pair.key.value !== 'for') return;
      if (!YAML.isScalar(pair.value) || !pair.value.range) throw new Error('shortenFor: a `for` that is not a plain value');
      edits.push({ start: pair.value.range[0], end: pair.value.range[1], value: shorter(String(pair.value.value)) });
    },
  });
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.value + out.slice(e.end);
  return out;
}

/** The project's rule files, test copies with `for:` shortened. */
export function testRules(): Record<string, string> {
  return Object.fromEntries(
    RULE_FILES.map((f) => [f, shortenFor(fs.readFileSync(path.join(ROOT, 'alert-rules', f), 'utf8'))]),
  );
}

// ------------------------------------------------------------------ API views

export interface DecisionView {
  id: string;
  at: string;
  alertname: string | null;
  fingerprint: string;
  startsAt: string;
  status: string;
  trigger: string | null;
  namespace: string | null;
  name: string | null;
  decision: string;
  reason: string;
  rollbackId: string | null;
}

export interface SampleView {
  at: string;
  metric: string;
  value: number | null;
  state: string;
  detail: string;
}

export interface WindowView {
  id: string;
  status: string;
  escalation: string | null;
  startedAt: string;
  endsAt: string;
  finishedAt: string | null;
  samples: SampleView[];
}

export interface RollbackView {
  id: string;
  status: string;
  kind: string;
  strategy: string;
  startedAt: string;
  finishedAt: string | null;
  steps: { at: string; name: string; detail: string; request?: { method: string; path: string } }[];
  window: WindowView | null;
}

export interface PromAlert {
  labels: Record<string, string>;
  state: string;
  activeAt: string;
  value: string;
}

// ------------------------------------------------------------------ the chain

export interface ChainOptions {
  cluster: ClusterConnection;
  /** An existing namespace (the Role for the receiver's user is created in it). */
  namespace: string;
  /** Default 'api'. */
  name?: string;
}

export interface Chain {
  readonly namespace: string;
  readonly name: string;
  readonly workloads: Workloads;
  readonly exporter: Exporter;
  readonly prometheus: RunningPrometheus;
  readonly alertmanager: RunningAlertmanager;
  /** The receiver process (its log: receiver.logTail()). */
  readonly receiver: Daemon;
  /** Stands in for Slack (/slack/...) and the application's health endpoint (/health/...). */
  readonly hooks: RecordingServer;
  readonly configYaml: string;
  /** Sets the application's error ratio (its health endpoint answers 200 while the ratio is low). */
  setErrorRatio(ratio: number): void;
  /** Resolves when Prometheus scrapes the application and the receiver, knows Alertmanager, and has a request rate. */
  ready(timeoutMs?: number): Promise<void>;
  /** GET a receiver path with the operator token; parsed JSON (or text for non-JSON). */
  get<T = unknown>(p: string): Promise<T>;
  decisions(): Promise<DecisionView[]>;
  rollback(id: string): Promise<RollbackView>;
  report(id: string): Promise<string>;
  metrics(): Promise<string>;
  /** Prometheus's alerts for this namespace (and the receiver's own, which carry no namespace of ours). */
  promAlerts(): Promise<PromAlert[]>;
  stop(): Promise<void>;
}

async function grantRbac(cluster: ClusterConnection, namespace: string): Promise<void> {
  const rules = YAML.parse(fs.readFileSync(path.join(ROOT, 'src/kube/rbac-rules.yaml'), 'utf8')) as V1PolicyRule[];
  const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'rollback-receiver' }, rules } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'rollback-receiver' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'rollback-receiver' },
      subjects: [{ kind: 'User', name: cluster.restrictedUser, apiGroup: 'rbac.authorization.k8s.io' }],
    },
  });
}

export async function startChain(opts: ChainOptions): Promise<Chain> {
  const { cluster, namespace } = opts;
  const name = opts.name ?? 'api';
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    const all = stops.splice(0).reverse();
    for (const s of all) await s().catch(() => undefined);
  };
  try {
    await grantRbac(cluster, namespace);

    // The application and its health endpoint.
    const exporter = await startExporter();
    stops.push(() => exporter.close());
    let errorRatio = GOOD_ERROR_RATIO;
    const setErrorRatio = (ratio: number) => {
      errorRatio = ratio;
      exporter.traffic({ namespace, deployment: name, rps: RPS, errorRatio: ratio, latencySeconds: 0.05 });
    };
    setErrorRatio(GOOD_ERROR_RATIO);
    const hooks = await startRecordingServer();
    stops.push(() => hooks.close());
    hooks.reply((req) => {
      if (!req.url.startsWith('/health/')) return { status: 200, body: 'ok' };
      return errorRatio <= GOOD_ERROR_RATIO ? { status: 200, body: 'healthy' } : { status: 503, body: 'serving errors' };
    });

    // The receiver's port first: Alertmanager and Prometheus point at it from the start.
    const receiverPort = await freePort();
    const receiverUrl = `http://127.0.0.1:${receiverPort}`;

    const alertmanager = await startAlertmanager({
      receivers: [{ name: 'default' }], // everything else: nowhere (a team's channel in real life)
      webhooks: [{ name: 'rollback-receiver', url: `${receiverUrl}/webhook`, bearerToken: WEBHOOK_TOKEN, sendResolved: true }],
      route: {
        receiver: 'default',
        group_by: ['alertname', 'namespace', 'deployment'],
        ...AM_TIMING,
        routes: [{ receiver: 'rollback-receiver', matchers: ['rollback_trigger=~".+"'] }],
      },
    });
    stops.push(() => alertmanager.stop());

    const prometheus = await startPrometheus({
      scrapeJobs: [
        ...exporter.scrapeJobs().filter((j) => j.jobName === 'app'),
        { jobName: 'rollback-receiver', targets: [`127.0.0.1:${receiverPort}`] },
      ],
      rules: testRules(),
      alertmanagers: [alertmanager.target],
    });
    stops.push(() => prometheus.stop());

    const receiver = await receiverProcess({
      label: 'chain',
      port: receiverPort,
      env: { ROLLBACK_DRY_RUN: 'false', ROLLBACK_WEBHOOK_TOKEN: WEBHOOK_TOKEN, ROLLBACK_OPERATOR_TOKEN: OPERATOR_TOKEN, LOG_LEVEL: 'info' },
    });
    stops.push(() => receiver.stop('SIGTERM'));
    const configYaml = `# rollback-receiver config of the chain (written by scripts/demo/chain.ts)
rollback:
  dryRun: false
execution:
  verifyTimeout: 60s
  probes:
    urls: ["${hooks.url}/health/{namespace}/{name}"]
    interval: 1s
monitoring:
  enhanced:
    duration: ${WINDOW.duration}
    interval: ${WINDOW.interval}
    rateWindow: ${WINDOW.rateWindow}
    minRateWindow: ${WINDOW.minRateWindow}
    prometheusUrl: ${prometheus.url}
    metrics: [error_rate, response_time]
notifications:
  receiverUrl: ${receiverUrl}
  retry: { attempts: 2, minBackoff: 10ms, maxBackoff: 50ms }
  slack: { webhookUrl: { value: "${hooks.url}/slack/T000/B000/XXXX" } }
`;
    fs.writeFileSync(receiver.file('config.yaml'), configYaml);
    cluster.writeKubeconfig(receiver.file('kubeconfig'), cluster.restrictedToken);
    await receiver.start();

    const get = async <T>(p: string): Promise<T> => {
      const res = await fetch(`${receiverUrl}${p}`, {
        headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` },
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${p} answered ${res.status}: ${text.slice(0, 300)}`);
      return (/json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text) as T;
    };
    const q = `namespace=${encodeURIComponent(namespace)}&name=${encodeURIComponent(name)}`;

    return {
      namespace,
      name,
      workloads: new Workloads(cluster),
      exporter,
      prometheus,
      alertmanager,
      receiver,
      hooks,
      configYaml,
      setErrorRatio,
      async ready(timeoutMs = 60_000) {
        await prometheus.waitForTargets(timeoutMs);
        await waitFor(
          async () => {
            const body = await prometheus.api<{ data: { activeAlertmanagers: { url: string }[] } }>('/api/v1/alertmanagers');
            return body.data.activeAlertmanagers.some((a) => a.url.includes(alertmanager.target));
          },
          timeoutMs,
          { description: 'Prometheus knows Alertmanager', intervalMs: 200 },
        );
        const query = encodeURIComponent(`sum(rate(http_requests_total{namespace="${namespace}",deployment="${name}"}[1m]))`);
        await waitFor(
          async () => (await prometheus.api<{ data: { result: unknown[] } }>(`/api/v1/query?query=${query}`)).data.result.length > 0,
          timeoutMs,
          { description: 'a request rate in Prometheus', intervalMs: 200 },
        );
      },
      get,
      async decisions() {
        return (await get<{ decisions: DecisionView[] }>(`/api/v1/decisions?${q}&limit=1000`)).decisions;
      },
      rollback: (id) => get<RollbackView>(`/api/v1/rollbacks/${encodeURIComponent(id)}`),
      report: (id) => get<string>(`/api/v1/rollbacks/${encodeURIComponent(id)}/report`),
      async metrics() {
        const res = await fetch(`${receiverUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
        return res.text();
      },
      async promAlerts() {
        return (await prometheus.api<{ data: { alerts: PromAlert[] } }>('/api/v1/alerts')).data.alerts;
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

// ------------------------------------------------------------------ the timeline

export interface ChainEvent {
  /** When it happened (the record's own time where there is one), ms. */
  at: number;
  source: 'scenario' | 'kubernetes' | 'prometheus' | 'alertmanager' | 'receiver';
  text: string;
  /** Lines belonging to the event (a finished rollback's steps). */
  detail?: string[];
}

const pct = (v: string | number) => `${(Number(v) * 100).toFixed(1)}%`;

/**
 * Polls every component and reports each change once, as it happens. Returns a stop
 * function. Errors (a component not up yet) are skipped: the next poll tries again.
 */
export function observe(chain: Chain, emit: (e: ChainEvent) => void, intervalMs = 250): () => Promise<void> {
  const { namespace: ns, name } = chain;
  const seen = new Set<string>();
  const once = (key: string, source: ChainEvent['source'], text: string, at = Date.now()) => {
    if (seen.has(key)) return;
    seen.add(key);
    emit({ at, source, text });
  };
  let lastImage = '';
  let lastRevision = '';
  let lastReady = '';
  let promState = 'inactive';
  let amState = 'none';
  const rollbackIds = new Set<string>();

  const poll = async () => {
    await Promise.allSettled([
      (async () => {
        const d = await chain.workloads.read(ns, name);
        const image = chain.workloads.image(d) ?? '';
        const revision = d.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '';
        const ready = `${d.status?.availableReplicas ?? 0}/${d.spec?.replicas ?? 0} available, ${d.status?.updatedReplicas ?? 0} updated`;
        if (image !== lastImage || revision !== lastRevision) {
          emit({ at: Date.now(), source: 'kubernetes', text: `Deployment ${ns}/${name}: pod template ${image}, revision ${revision}` });
          lastImage = image;
          lastRevision = revision;
        }
        if (ready !== lastReady) {
          emit({ at: Date.now(), source: 'kubernetes', text: `Deployment ${ns}/${name}: ${ready}` });
          lastReady = ready;
        }
      })(),
      (async () => {
        const a = (await chain.promAlerts()).find((x) => x.labels.alertname === ERROR_RATE_ALERT && x.labels.namespace === ns);
        const state = a?.state ?? 'inactive';
        if (state !== promState) {
          const what = a ? `${state} (error ratio over 5m ${pct(a.value)}, active since ${a.activeAt.slice(11, 23)})` : 'resolved (no longer active)';
          emit({ at: Date.now(), source: 'prometheus', text: `alert ${ERROR_RATE_ALERT} ${what}` });
          promState = state;
        }
      })(),
      (async () => {
        const alerts = await chain.alertmanager.alerts({ filter: [`namespace="${ns}"`, `alertname="${ERROR_RATE_ALERT}"`] });
        const a = alerts[0];
        const state = a ? `${a.status.state} → ${a.receivers.map((r) => r.name).join(', ')}` : 'none';
        if (state !== amState) {
          const text = a ? `alert ${ERROR_RATE_ALERT} ${a.status.state}, routed to ${a.receivers.map((r) => r.name).join(', ')}` : `alert ${ERROR_RATE_ALERT} no longer held (resolved)`;
          if (a || amState !== 'none') emit({ at: Date.now(), source: 'alertmanager', text });
          amState = state;
        }
      })(),
      (async () => {
        const decisions = await chain.decisions();
        for (const d of [...decisions].reverse()) {
          once(`decision:${d.id}`, 'receiver', `decided ${d.decision} for ${d.alertname ?? '?'} (${d.status}, startsAt ${d.startsAt.slice(11, 23)}): ${d.reason}`, Date.parse(d.at));
          if (d.rollbackId) rollbackIds.add(d.rollbackId);
        }
        for (const id of rollbackIds) {
          const r = await chain.rollback(id);
          // Steps are stored when the rollback finishes: report them then, with their own times.
          if (r.status !== 'running' && !seen.has(`rollback:${id}`)) {
            seen.add(`rollback:${id}`);
            emit({
              at: Date.parse(r.finishedAt ?? r.startedAt),
              source: 'receiver',
              text: `rollback ${id} finished: ${r.status}`,
              detail: r.steps.map((x) => `${x.at.slice(11, 23)} ${x.name}: ${x.name === 'inspected' ? 'state read' : x.detail}${x.request ? ` — ${x.request.method} ${x.request.path.split('?')[0]}` : ''}`),
            });
          }
          const w = r.window;
          if (w) {
            once(`window:${w.id}`, 'receiver', `monitoring window opened until ${w.endsAt.slice(11, 23)}`, Date.parse(w.startedAt));
            for (const x of w.samples) {
              once(`sample:${w.id}:${x.at}:${x.metric}`, 'receiver', `window sample ${x.metric} ${x.value === null ? 'no data' : Number(x.value.toPrecision(3))} (${x.state})`, Date.parse(x.at));
            }
            if (w.status !== 'active') once(`window:${w.id}:end`, 'receiver', `monitoring window ended: ${w.status}`, Date.parse(w.finishedAt ?? w.endsAt));
          }
        }
      })(),
    ]);
  };

  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await poll();
      await sleep(intervalMs);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await poll(); // the last changes
  };
}

// ------------------------------------------------------------------ the incident

export interface ScenarioResult {
  /** The `executed` decision. */
  executed: DecisionView;
  rollbackId: string;
  rollback: RollbackView;
  window: WindowView;
  resolved: DecisionView;
  /** When the test made the broken version serve errors, and v1 serve cleanly again (ms). */
  raisedAt: number;
  loweredAt: number;
}

/**
 * v1 healthy → broken rollout (v2 `app:broken`, revision 2) → the broken version serves
 * errors → the error-rate rule fires → Alertmanager → webhook → rollback to v1 → v1 serves
 * cleanly again → the window ends → the alert resolves. `say` narrates the steps.
 */
export async function runScenario(chain: Chain, say: (text: string) => void, timeoutMs = 90_000): Promise<ScenarioResult> {
  const { namespace: ns, name, workloads: k } = chain;
  say(`deploying ${ns}/${name} v1 (image app:v1, 2 replicas, annotation rollback-receiver.io/enabled: "true")`);
  await k.deployment(ns, name, 'app:v1', { annotations: OPT_IN });
  await k.available(ns, name, 2, timeoutMs);
  say(`v1 rolled out and healthy: ${RPS} req/s at ${pct(GOOD_ERROR_RATIO)} errors`);

  await Promise.all([
    chain.ready(timeoutMs).then(() => say('Prometheus scrapes the application and the receiver, and knows Alertmanager')),
    (async () => {
      await k.setImage(ns, name, 'app:broken');
      await k.revision(ns, name, 2);
      say('v2 rolled out (broken): image app:broken is revision 2; its pod never becomes Ready');
    })(),
  ]);
  // The stale guard compares the alert's start with managedFields times (1 s precision).
  await sleep(1100);

  const raisedAt = Date.now();
  chain.setErrorRatio(BAD_ERROR_RATIO);
  say(`the broken version serves errors: error ratio ${pct(BAD_ERROR_RATIO)}; waiting for ${ERROR_RATE_ALERT} (> 10% over 5m) → Alertmanager → receiver`);

  await waitFor(async () => k.image(await k.read(ns, name)) === 'app:v1', timeoutMs, {
    description: `the receiver rolls ${ns}/${name} back to app:v1`,
  });
  const loweredAt = Date.now();
  chain.setErrorRatio(GOOD_ERROR_RATIO);
  say(`rolled back to v1: the pod template is app:v1 again; v1 serves at ${pct(GOOD_ERROR_RATIO)} errors`);
  await k.available(ns, name, 2, timeoutMs);
  say('v1 rolled out and available (2/2)');

  const executed = await waitFor(async () => (await chain.decisions()).find((d) => d.decision === 'executed'), timeoutMs, {
    description: 'an executed decision',
  });
  const rollbackId = executed.rollbackId!;
  const rollback = await waitFor(async () => {
    const r = await chain.rollback(rollbackId);
    return r.status !== 'running' ? r : undefined;
  }, timeoutMs, { description: `rollback ${rollbackId} finished`, intervalMs: 250 });
  say(`rollback ${rollbackId} ${rollback.status}: verified (rollout status + health probe); monitoring window runs`);
  const window = await waitFor(async () => {
    const w = (await chain.rollback(rollbackId)).window;
    return w && w.status !== 'active' ? w : undefined;
  }, timeoutMs, { description: `the monitoring window of ${rollbackId} ended`, intervalMs: 250 });
  say(`window ${window.status} after ${new Set(window.samples.map((x) => x.at)).size} samples of ${[...new Set(window.samples.map((x) => x.metric))].join(', ')}`);
  const resolved = await waitFor(
    async () => (await chain.decisions()).find((d) => d.decision === 'resolved' && d.fingerprint === executed.fingerprint),
    timeoutMs,
    { description: `the receiver hears that ${ERROR_RATE_ALERT} resolved`, intervalMs: 250 },
  );
  say(`${ERROR_RATE_ALERT} resolved: the receiver recorded it (${resolved.reason})`);
  return { executed, rollbackId, rollback, window, resolved, raisedAt, loweredAt };
}
