/**
 * values.schema.json (JSON Schema draft-07), checked the way Helm checks it: the renderer
 * validates the coalesced values with gojsonschema (Helm 3's validator) before rendering
 * and fails with the offending field. On the receiver's own config blocks the schema agrees
 * with the receiver's loader: what it accepts there the loader accepts, what it rejects the
 * loader rejects too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';
import { CHART_DIR, REQUIRED_VALUES, renderRaw } from './chart.js';
import { seedBlock } from './seed.js';

const RECEIVER_BLOCKS = ['state', 'rollback', 'monitoring', 'alertmanager', 'notifications', 'execution', 'gitops', 'environments', 'report', 'server', 'store', 'shutdown'];

function isReceiverValue(values: Record<string, unknown>): boolean {
  return Object.keys(values).every((k) => RECEIVER_BLOCKS.includes(k));
}

function loaderAccepts(values: Record<string, unknown>): boolean {
  try {
    parseConfigText(stringify(values), 'values');
    return true;
  } catch {
    return false;
  }
}

test('values.schema.json is a draft-07 schema', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(CHART_DIR, 'values.schema.json'), 'utf8')) as Record<string, unknown>;
  expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  expect(schema.type).toBe('object');
});

test('values.yaml validates against values.schema.json', () => {
  // Defaults (with the two required values), and values.yaml passed explicitly as a user values file.
  for (const r of [renderRaw(), renderRaw({ valueFiles: [path.join(CHART_DIR, 'values.yaml')], values: REQUIRED_VALUES })]) {
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }
});

test("the operations document's rollback: and monitoring: blocks validate as they are", () => {
  const values = { ...seedBlock('rollback').value, ...seedBlock('monitoring').value };
  const r = renderRaw({ values });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

const GOOD: [string, Record<string, unknown>][] = [
  ['durations as strings', { rollback: { cooldownPeriod: '5m', retryWindow: '1h30m', brake: { max: 3, window: '10m' } } }],
  ['cpu and memory seed triggers', { rollback: { triggers: [{ cpuThreshold: 0.95 }, { memoryThreshold: 0.9 }] } }],
  [
    'a named trigger mixed with seed entries',
    { rollback: { triggers: [{ errorRateThreshold: 0.2 }, { name: 'checkout-latency', matchers: ['alertname="CheckoutSlow"'], strategy: 'blue-green', actAfter: '90s', automatic: false }] } },
  ],
  ['an empty triggers list', { rollback: { triggers: [] } }],
  ['namespaces allow/deny', { rollback: { namespaces: { allow: ['shop-prod'], deny: ['kube-system', 'monitoring'] } } }],
  ['monitoring queries and auth', { monitoring: { enhanced: { queries: { error_rate: 'sum(rate(x[5m]))' }, auth: { bearerToken: { file: '/var/run/token' } }, rateWindow: '2m' } } }],
  ['notification channels', { notifications: { slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL', events: ['escalated'] }, pagerduty: { routingKeyFile: '/etc/pd/key' } } }],
  ['environments', { environments: { production: 'rust-ai-ide-prod', staging: { namespace: 'rust-ai-ide-staging', name: 'rust-ai-ide', strategy: 'blue-green' } } }],
  ['execution settings', { execution: { concurrency: 8, verifyTimeout: '10m', probes: { urls: ['http://{name}.{namespace}.svc/health'] }, blueGreen: { colors: ['blue', 'green'] } } }],
  ['chart settings', { rbac: { namespaces: ['team-a'] }, persistence: { enabled: true, size: '5Gi' }, replicaCount: 0, image: { digest: `sha256:${'a'.repeat(64)}` } }],
  ['shutdown.grace as seconds', { shutdown: { grace: 120 } }],
  ['Alertmanager silences, the reverted check interval, deploy correlation', {
    alertmanager: { url: 'http://alertmanager.monitoring:9093', auth: { bearerToken: { env: 'AM_TOKEN' } }, timeout: '2s', silenceDuringWindow: true },
    monitoring: { reverted: { checkInterval: '30s' } },
    rollback: { triggers: [{ name: 'error_rate', maxRevisionAge: '30m' }] },
  }],
  ['GitOps pause', { gitops: { argocd: { enabled: true, namespace: 'argocd', trackingLabel: 'argocd.argoproj.io/instance', parents: 'refuse' }, flux: { enabled: true }, resume: 'onSourceChange', checkInterval: '2m' } }],
  ['GitOps RBAC namespaces', { rbac: { namespaces: ['team-a'], gitops: { argocdNamespaces: ['argocd'], fluxNamespaces: ['flux-system', 'team-a'] } } }],
  ['the kubernetes state backend with its options', { state: { backend: 'kubernetes', namespace: 'rollback-state', leaseDuration: '30s' } }],
  ['the kubernetes state backend with three replicas', { state: { backend: 'kubernetes' }, replicaCount: 3 }],
  ['the sqlite state backend with one replica', { state: { backend: 'sqlite' }, replicaCount: 1 }],
  ['the sqlite state backend parked', { state: { backend: 'sqlite' }, replicaCount: 0 }],
  ['shutdown.grace as a duration', { shutdown: { grace: '2m30s' } }],
  [
    'rule settings',
    { prometheusRule: { runbookUrl: 'https://wiki.example.org/runbooks/rollback', minRequestRate: 0.2, probeInterval: '30s', podOwnerRule: 'namespace_workload_pod:kube_pod_owner:relabel' } },
  ],
  ['a NetworkPolicy', { networkPolicy: { enabled: true, apiServer: { cidrs: ['10.0.0.1/32', 'fd00::1/128'], ports: [443] }, notifiers: [{ cidr: '0.0.0.0/0', ports: [443] }] } }],
];

test.each(GOOD)('accepts %s', (_name, values) => {
  const r = renderRaw({ values });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  if (isReceiverValue(values)) expect(loaderAccepts(values)).toBe(true);
});

/** [what, values, the field the error names] */
const BAD: [string, Record<string, unknown>, string][] = [
  ['rollback.enabled as a string', { rollback: { enabled: 'yes' } }, 'rollback.enabled'],
  ['alertmanager without its url', { alertmanager: { silenceDuringWindow: true } }, 'alertmanager'],
  ['rollback.automatic as a number', { rollback: { automatic: 1 } }, 'rollback.automatic'],
  ['rollback.dryRun as the string "false"', { rollback: { dryRun: 'false' } }, 'rollback.dryRun'],
  ['cooldownPeriod that is not a duration', { rollback: { cooldownPeriod: 'soon' } }, 'rollback.cooldownPeriod'],
  ['negative cooldownPeriod', { rollback: { cooldownPeriod: -1 } }, 'rollback.cooldownPeriod'],
  ['maximumRetries as a string', { rollback: { maximumRetries: '5' } }, 'rollback.maximumRetries'],
  ['maximumRetries 0', { rollback: { maximumRetries: 0 } }, 'rollback.maximumRetries'],
  ['triggers as a map', { rollback: { triggers: { errorRateThreshold: 0.1 } } }, 'rollback.triggers'],
  ['a threshold as a string', { rollback: { triggers: [{ errorRateThreshold: '10%' }] } }, 'rollback.triggers.0'],
  ['an error rate above 1', { rollback: { triggers: [{ errorRateThreshold: 1.5 }] } }, 'rollback.triggers.0'],
  ['a fractional health check count', { rollback: { triggers: [{ healthCheckFailures: 2.5 }] } }, 'rollback.triggers.0'],
  ['two keys in one seed entry', { rollback: { triggers: [{ errorRateThreshold: 0.1, healthCheckFailures: 3 }] } }, 'rollback.triggers.0'],
  ['an unknown seed key', { rollback: { triggers: [{ errorRate: 0.1 }] } }, 'rollback.triggers.0'],
  ['an unknown strategy', { rollback: { triggers: [{ name: 'x', matchers: ['a="b"'], strategy: 'rolling' }] } }, 'rollback.triggers.0'],
  ['an unknown rollback key', { rollback: { coolDown: 300 } }, 'rollback'],
  ['an invalid namespace', { rollback: { namespaces: { deny: ['Kube_System'] } } }, 'rollback.namespaces.deny.0'],
  ['brake.max as a string', { rollback: { brake: { max: 'ten' } } }, 'rollback.brake.max'],
  ['a threshold as a string', { monitoring: { enhanced: { alert_thresholds: { error_rate: 'high' } } } }, 'monitoring.enhanced.alert_thresholds.error_rate'],
  ['monitoring.enhanced.enabled as a string', { monitoring: { enhanced: { enabled: 'true' } } }, 'monitoring.enhanced.enabled'],
  ['an unknown monitoring key', { monitoring: { enhanced: { windowSize: 10 } } }, 'monitoring.enhanced'],
  ['an unknown notifications key', { notifications: { email: { to: 'x@example.com' } } }, 'notifications'],
  ['execution.concurrency 0', { execution: { concurrency: 0 } }, 'execution.concurrency'],
  ['an unknown GitOps resume policy', { gitops: { resume: 'always' } }, 'gitops.resume'],
  ['gitops.argocd.enabled as a string', { gitops: { argocd: { enabled: 'yes' } } }, 'gitops.argocd.enabled'],
  ['an unknown gitops key', { gitops: { rancher: {} } }, 'gitops'],
  ['an invalid Argo CD RBAC namespace', { rbac: { gitops: { argocdNamespaces: ['Argo_CD'] } } }, 'rbac.gitops.argocdNamespaces.0'],
  ['a misspelt top-level key', { rolback: { enabled: true } }, '(root)'],
  ['two replicas with state.backend sqlite', { state: { backend: 'sqlite' }, replicaCount: 2 }, 'replicaCount'],
  ['a state backend the receiver does not have', { state: { backend: 'etcd' } }, 'state.backend'],
  ['a state backend in capitals', { state: { backend: 'Kubernetes' } }, 'state.backend'],
  ['a state lease duration that is not a duration', { state: { leaseDuration: 'long' } }, 'state.leaseDuration'],
  ['an invalid state namespace', { state: { namespace: 'Rollback_State' } }, 'state.namespace'],
  ['an unknown state key', { state: { dir: '/var/lib/x' } }, 'state'],
  ['a negative replicaCount', { replicaCount: -1 }, 'replicaCount'],
  ['shutdown.grace that is not a duration', { shutdown: { grace: 'a minute' } }, 'shutdown.grace'],
  ['an unknown shutdown key', { shutdown: { timeout: 60 } }, 'shutdown'],
  ['rbac.clusterWide as a string', { rbac: { clusterWide: 'yes' } }, 'rbac.clusterWide'],
  ['a runbook URL with an anchor', { prometheusRule: { runbookUrl: 'https://wiki.example.org/runbooks#top' } }, 'prometheusRule.runbookUrl'],
  ['a negative minimum request rate', { prometheusRule: { minRequestRate: -1 } }, 'prometheusRule.minRequestRate'],
  ['an unknown prometheusRule key', { prometheusRule: { minTraffic: 1 } }, 'prometheusRule'],
  ['a NetworkPolicy port out of range', { networkPolicy: { notifiers: [{ cidr: '0.0.0.0/0', ports: [70000] }] } }, 'networkPolicy.notifiers.0.ports.0'],
  ['the removed auth.operatorTokenEnabled', { auth: { operatorTokenEnabled: true } }, 'auth'],
  ['an invalid RBAC namespace', { rbac: { namespaces: ['Team_A'] } }, 'rbac.namespaces.0'],
  ['rbac.namespaces as a string', { rbac: { namespaces: 'team-a' } }, 'rbac.namespaces'],
  ['an unknown pull policy', { image: { pullPolicy: 'Sometimes' } }, 'image.pullPolicy'],
  ['service.port as a string', { service: { port: '9095' } }, 'service.port'],
  ['persistence.enabled as a string', { persistence: { enabled: 'true' } }, 'persistence.enabled'],
  ['serviceMonitor.labels with a number', { serviceMonitor: { labels: { release: 1 } } }, 'serviceMonitor.labels.release'],
  ['prometheusRule.enabled as a string', { prometheusRule: { enabled: 'no' } }, 'prometheusRule.enabled'],
  ['a non-http Prometheus URL', { prometheus: { url: 'prometheus:9090' } }, 'prometheus.url'],
];

test.each(BAD)('rejects %s', (_name, values, field) => {
  const r = renderRaw({ values });
  expect(r.status).not.toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain("values don't meet the specifications of the schema");
  expect(r.stderr).toContain(`- ${field}`);
  // The schema agrees with the receiver on its own blocks: the loader rejects these too.
  if (isReceiverValue(values)) expect(loaderAccepts(values)).toBe(false);
});
