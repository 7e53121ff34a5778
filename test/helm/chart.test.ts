/**
 * What the chart renders, with default and non-default values: the Deployment's safety
 * settings, the receiver's config (loaded by the receiver's own loader), RBAC from
 * src/kube/rbac-rules.yaml, tokens, state volume, ServiceMonitor, dashboard, PDB, NOTES.
 */
import fs from 'node:fs';
import path from 'node:path';
import type {
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1PersistentVolumeClaim,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { buildConfig, parseConfigText, type Config } from '../../src/config/load.js';
import { CHART_DIR, ROOT, only, ofKind, render, renderNotes, renderRaw, type Manifest } from './chart.js';
import { seedBlock } from './seed.js';

const RULES = parse(fs.readFileSync(path.join(ROOT, 'src/kube/rbac-rules.yaml'), 'utf8')) as V1PolicyRule[];
const CHART = parse(fs.readFileSync(path.join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { name: string; appVersion: string; version: string };
const NS = 'monitoring';

function container(m: Manifest[]): V1Container {
  const c = only<V1Deployment>(m, 'Deployment').spec!.template.spec!.containers;
  expect(c).toHaveLength(1);
  return c[0]!;
}

function env(c: V1Container): Record<string, string> {
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
}

/** The config file the receiver reads: the ConfigMap key at the path ROLLBACK_CONFIG names. */
function receiverConfigText(m: Manifest[]): string {
  const deploy = only<V1Deployment>(m, 'Deployment');
  const c = container(m);
  const file = env(c).ROLLBACK_CONFIG!;
  const mount = c.volumeMounts!.find((vm) => file.startsWith(`${vm.mountPath}/`))!;
  const volume = deploy.spec!.template.spec!.volumes!.find((v) => v.name === mount.name)!;
  const cm = only<V1ConfigMap>(m, 'ConfigMap', volume.configMap!.name);
  const text = cm.data?.[path.relative(mount.mountPath, file)];
  if (text === undefined) throw new Error(`ConfigMap ${cm.metadata!.name} has no key for ${file}`);
  return text;
}

/** Loads the rendered config with the receiver's own loader and the container's environment. */
function loadRendered(m: Manifest[]): Config {
  const c = container(m);
  return buildConfig(parseConfigText(receiverConfigText(m), 'rendered ConfigMap'), env(c).ROLLBACK_CONFIG!, env(c));
}

function decodeSecret(s: V1Secret): Record<string, string> {
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

describe('chart metadata', () => {
  test('Chart.yaml is apiVersion v2 and its appVersion is the receiver version', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(parse(fs.readFileSync(path.join(CHART_DIR, 'Chart.yaml'), 'utf8'))).toMatchObject({ apiVersion: 'v2', name: 'rollback-receiver' });
    expect(CHART.appVersion).toBe(pkg.version);
  });

  test("values.yaml holds the operations document's rollback: and monitoring.enhanced blocks unchanged", () => {
    const valuesText = fs.readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8');
    const values = parse(valuesText) as Record<string, Record<string, unknown>>;
    for (const key of ['rollback', 'monitoring'] as const) {
      const seed = seedBlock(key);
      expect(valuesText).toContain(seed.text.trimEnd());
      // Every seed key keeps its seed value (the chart only adds keys).
      expect(values[key]).toMatchObject(seed.value[key] as Record<string, unknown>);
    }
  });
});

describe('default values', () => {
  const m = render({ namespace: NS });

  test('renders the expected objects, each namespaced one in the release namespace', () => {
    const kinds = m.map((x) => x.object.kind).sort();
    for (const kind of ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor']) {
      expect(kinds).toContain(kind);
    }
    expect(ofKind(m, 'ConfigMap').map((c) => c.metadata.name).sort()).toEqual(['rollback-receiver-config', 'rollback-receiver-dashboard']);
    expect(ofKind(m, 'Role')).toHaveLength(0);
    expect(ofKind(m, 'PersistentVolumeClaim')).toHaveLength(0);
    for (const { object } of m) {
      const clusterScoped = ['ClusterRole', 'ClusterRoleBinding'].includes(object.kind);
      expect([object.kind, object.metadata.namespace]).toEqual([object.kind, clusterScoped ? undefined : NS]);
      expect(object.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'rollback-receiver',
        'app.kubernetes.io/instance': 'rollback-receiver',
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': `rollback-receiver-${CHART.version}`,
      });
    }
  });

  test('Deployment: one replica, Recreate, probes, resources, hardened security context', () => {
    const d = only<V1Deployment>(m, 'Deployment');
    const pod = d.spec!.template.spec!;
    const c = container(m);
    expect(d.spec!.replicas).toBe(1);
    expect(d.spec!.strategy).toEqual({ type: 'Recreate' });
    expect(c.image).toBe(`rollback-receiver:${CHART.appVersion}`);
    expect(c.args).toEqual(['serve']);
    expect(c.ports).toEqual([{ name: 'http', containerPort: 9095, protocol: 'TCP' }]);
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/health/live', port: 'http' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
    expect(c.resources?.requests).toEqual({ cpu: '50m', memory: '128Mi' });
    expect(c.resources?.limits?.memory).toBe('512Mi');
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.securityContext?.capabilities?.add).toBeUndefined();
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.serviceAccountName).toBe(only(m, 'ServiceAccount').metadata.name);
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(d.spec!.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'rollback-receiver', 'app.kubernetes.io/instance': 'rollback-receiver' });
    expect(d.spec!.template.metadata!.labels).toMatchObject(d.spec!.selector.matchLabels!);
    expect(d.spec!.template.metadata!.annotations!['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
  });

  test('Deployment environment: dry-run, Prometheus URL, config, state dir and token files', () => {
    const c = container(m);
    const e = env(c);
    expect(e).toMatchObject({
      PORT: '9095',
      ROLLBACK_DRY_RUN: 'true',
      PROMETHEUS_URL: 'http://kube-prometheus-stack-prometheus.monitoring.svc:9090',
      ROLLBACK_CONFIG: '/etc/rollback-receiver/config.yaml',
      ROLLBACK_STATE_DIR: '/var/lib/rollback-receiver',
      ROLLBACK_WEBHOOK_TOKEN_FILE: '/var/run/secrets/rollback-receiver/webhook-token',
      ROLLBACK_OPERATOR_TOKEN_FILE: '/var/run/secrets/rollback-receiver/operator-token',
      LOG_LEVEL: 'info',
    });
    const pod = only<V1Deployment>(m, 'Deployment').spec!.template.spec!;
    const mountOf = (p: string) => c.volumeMounts!.find((vm) => p === vm.mountPath || p.startsWith(`${vm.mountPath}/`));
    const volumeOf = (p: string) => pod.volumes!.find((v) => v.name === mountOf(p)?.name);
    // The state dir is writable (root filesystem is read-only): an emptyDir by default.
    expect(mountOf(e.ROLLBACK_STATE_DIR!)?.readOnly).toBeFalsy();
    expect(volumeOf(e.ROLLBACK_STATE_DIR!)?.emptyDir).toBeDefined();
    expect(volumeOf('/tmp')?.emptyDir).toBeDefined();
    // Each token file is an item of the chart's Secret.
    const secret = only<V1Secret>(m, 'Secret');
    const tokens = volumeOf(e.ROLLBACK_WEBHOOK_TOKEN_FILE!)!.secret!;
    expect(tokens.secretName).toBe(secret.metadata!.name);
    expect(tokens.defaultMode).toBe(0o440);
    for (const file of [e.ROLLBACK_WEBHOOK_TOKEN_FILE!, e.ROLLBACK_OPERATOR_TOKEN_FILE!]) {
      const item = tokens.items!.find((i) => i.path === path.basename(file));
      expect(item).toBeDefined();
      expect(Object.keys(secret.data!)).toContain(item!.key);
    }
  });

  test('Secret: generated webhook and operator tokens', () => {
    const tokens = decodeSecret(only<V1Secret>(m, 'Secret'));
    expect(Object.keys(tokens).sort()).toEqual(['operator-token', 'webhook-token']);
    expect(tokens['webhook-token']).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(tokens['operator-token']).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(tokens['webhook-token']).not.toBe(tokens['operator-token']);
  });

  test("the ConfigMap's config is accepted by the receiver's own loader, with the seed's settings", () => {
    const text = receiverConfigText(m);
    const file = parse(text) as Record<string, Record<string, unknown>>;
    expect(file.rollback).toMatchObject(seedBlock('rollback').value.rollback as Record<string, unknown>);
    expect(file.monitoring).toMatchObject(seedBlock('monitoring').value.monitoring as Record<string, unknown>);
    const config = loadRendered(m);
    expect(config.dryRun).toBe(true);
    expect(config.rollback.enabled).toBe(true);
    expect(config.rollback.automatic).toBe(true);
    expect(config.rollback.triggers.map((t) => [t.name, t.threshold])).toEqual([
      ['health_check', 3],
      ['error_rate', 0.1],
      ['response_time', 5000],
    ]);
    expect(config.rollback.cooldownMs).toBe(300_000);
    expect(config.rollback.maximumRetries).toBe(5);
    expect(config.rollback.retryWindowMs).toBe(3_600_000);
    expect(config.rollback.brake).toEqual({ max: 10, windowMs: 900_000 });
    expect(config.prometheusUrl).toBe('http://kube-prometheus-stack-prometheus.monitoring.svc:9090');
    expect(config.stateDir).toBe('/var/lib/rollback-receiver');
    expect(config.port).toBe(9095);
    expect(config.monitoring).toMatchObject({ enabled: true });
    expect(JSON.stringify(config.monitoring)).toContain('1800000');
  });

  test('ClusterRole rules are exactly src/kube/rbac-rules.yaml, bound to the ServiceAccount', () => {
    const role = only<V1Role>(m, 'ClusterRole');
    expect(role.rules).toEqual(RULES);
    const binding = only<V1ClusterRoleBinding>(m, 'ClusterRoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata!.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: only(m, 'ServiceAccount').metadata.name, namespace: NS }]);
  });

  test('Service on 9095 selects the pods', () => {
    const svc = only<V1Service>(m, 'Service');
    expect(svc.spec!.ports).toEqual([{ name: 'http', port: 9095, targetPort: 'http', protocol: 'TCP' }]);
    expect(only<V1Deployment>(m, 'Deployment').spec!.template.metadata!.labels).toMatchObject(svc.spec!.selector!);
  });

  test('ServiceMonitor scrapes /metrics on the Service, labelled for kube-prometheus-stack', () => {
    const sm = only(m, 'ServiceMonitor') as unknown as {
      apiVersion: string;
      metadata: { labels: Record<string, string> };
      spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: { matchNames: string[] }; endpoints: Record<string, unknown>[] };
    };
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(only<V1Service>(m, 'Service').metadata!.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.spec.namespaceSelector.matchNames).toEqual([NS]);
    expect(sm.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s', honorLabels: true }]);
  });

  test('dashboard ConfigMap carries the Grafana sidecar label and the dashboard JSON', () => {
    const cm = only<V1ConfigMap>(m, 'ConfigMap', 'rollback-receiver-dashboard');
    expect(cm.metadata!.labels!.grafana_dashboard).toBe('1');
    const json = cm.data!['rollback-receiver.json']!;
    expect(JSON.parse(json)).toEqual(JSON.parse(fs.readFileSync(path.join(CHART_DIR, 'dashboards/rollback-receiver.json'), 'utf8')));
  });

  test('PodDisruptionBudget: policy/v1 where served, policy/v1beta1 on a v1.20 apiserver', () => {
    const modern = only(m, 'PodDisruptionBudget') as unknown as { apiVersion: string; spec: Record<string, unknown> };
    expect(modern.apiVersion).toBe('policy/v1');
    expect(modern.spec).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: only<V1Deployment>(m, 'Deployment').spec!.selector.matchLabels } });
    const old = render({ namespace: NS, kubeVersion: 'v1.20.2', apiVersions: ['v1', 'apps/v1', 'policy/v1beta1', 'policy/v1beta1/PodDisruptionBudget'] });
    expect(only(old, 'PodDisruptionBudget').apiVersion).toBe('policy/v1beta1');
  });

  test('NOTES.txt: dry-run notice and an Alertmanager receiver with http_config.authorization.credentials_file', () => {
    const notes = renderNotes({ namespace: NS });
    expect(notes).toContain('MODE: DRY-RUN');
    expect(notes).toContain('http://rollback-receiver.monitoring.svc:9095/webhook');
    expect(notes).toContain('send_resolved: true');
    expect(notes).toContain('credentials_file: /etc/alertmanager/secrets/rollback-receiver-tokens/webhook-token');
    expect(notes).not.toContain('<no value>');
    // The snippet is valid YAML with the shape Alertmanager expects.
    const snippet = /^( {4}route:\n[\s\S]*?credentials_file: .*)$/m.exec(notes)![1]!;
    const am = parse(snippet.replace(/^ {4}/gm, '')) as { receivers: { name: string; webhook_configs: Record<string, unknown>[] }[] };
    expect(am.receivers[0]!.webhook_configs[0]).toEqual({
      url: 'http://rollback-receiver.monitoring.svc:9095/webhook',
      send_resolved: true,
      http_config: { authorization: { type: 'Bearer', credentials_file: '/etc/alertmanager/secrets/rollback-receiver-tokens/webhook-token' } },
    });
  });
});

describe('non-default values', () => {
  const LIVE = {
    rollback: { dryRun: false },
    rbac: { namespaces: ['team-a', 'team-b'] },
    auth: { existingSecret: 'alertmanager-rollback', existingSecretKeys: { webhookToken: 'token', operatorToken: '' } },
    persistence: { enabled: true, size: '2Gi', storageClass: 'fast-ssd' },
    serviceMonitor: { enabled: false },
    prometheus: { url: 'http://prometheus-operated.observability.svc:9090' },
    dashboard: { namespace: 'grafana' },
    image: { repository: 'registry.example.com/rollback-receiver', tag: '0.1.0-rc1' },
    notifications: { slack: { webhookUrlFile: '/etc/rollback-receiver/notify/slack', channel: '#alerts-critical' } },
    environments: { production: 'rust-ai-ide-prod' },
    report: { escalationContacts: [{ role: 'DevOps Lead', contact: 'devops-lead@rust-ai-ide.com', availability: '24/7' }] },
    execution: { concurrency: 2 },
    server: { bodyLimit: '2mb' },
    store: { retention: '14d' },
  };
  const m = render({ namespace: 'ops', release: 'rr', values: LIVE });

  test('namespaced RBAC: a Role and RoleBinding in each listed namespace, rules from src/kube/rbac-rules.yaml', () => {
    expect(ofKind(m, 'ClusterRole')).toHaveLength(0);
    expect(ofKind(m, 'ClusterRoleBinding')).toHaveLength(0);
    const roles = ofKind(m, 'Role') as unknown as V1Role[];
    const bindings = ofKind(m, 'RoleBinding') as unknown as V1RoleBinding[];
    expect(roles.map((r) => r.metadata!.namespace).sort()).toEqual(['team-a', 'team-b']);
    expect(bindings.map((r) => r.metadata!.namespace).sort()).toEqual(['team-a', 'team-b']);
    for (const role of roles) expect(role.rules).toEqual(RULES);
    for (const b of bindings) {
      const role = roles.find((r) => r.metadata!.namespace === b.metadata!.namespace)!;
      expect(b.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata!.name });
      expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: only(m, 'ServiceAccount').metadata.name, namespace: 'ops' }]);
    }
  });

  test('live mode: ROLLBACK_DRY_RUN=false, and the loader agrees', () => {
    const e = env(container(m));
    expect(e.ROLLBACK_DRY_RUN).toBe('false');
    expect(e.PROMETHEUS_URL).toBe('http://prometheus-operated.observability.svc:9090');
    const config = loadRendered(m);
    expect(config.dryRun).toBe(false);
    expect(config.environments).toEqual({ production: { namespace: 'rust-ai-ide-prod' } });
    expect(config.execution.concurrency).toBe(2);
    expect(config.bodyLimitBytes).toBe(2_000_000);
    expect(config.retentionMs).toBe(14 * 24 * 3600_000);
    expect(config.notifications.slack).toMatchObject({ channel: '#alerts-critical' });
    expect(config.report.escalationContacts).toHaveLength(1);
  });

  test('existingSecret: no chart Secret, the webhook token comes from the given key, no operator token', () => {
    expect(ofKind(m, 'Secret')).toHaveLength(0);
    const c = container(m);
    const e = env(c);
    expect(e.ROLLBACK_WEBHOOK_TOKEN_FILE).toBe('/var/run/secrets/rollback-receiver/webhook-token');
    expect(e.ROLLBACK_OPERATOR_TOKEN_FILE).toBeUndefined();
    const tokens = only<V1Deployment>(m, 'Deployment').spec!.template.spec!.volumes!.find((v) => v.secret)!.secret!;
    expect(tokens.secretName).toBe('alertmanager-rollback');
    expect(tokens.items).toEqual([{ key: 'token', path: 'webhook-token' }]);
  });

  test('persistence: a PVC (kept on uninstall) mounted at the state dir', () => {
    const pvc = only<V1PersistentVolumeClaim>(m, 'PersistentVolumeClaim');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast-ssd', resources: { requests: { storage: '2Gi' } } });
    expect(pvc.metadata!.annotations!['helm.sh/resource-policy']).toBe('keep');
    const pod = only<V1Deployment>(m, 'Deployment').spec!.template.spec!;
    const state = pod.volumes!.find((v) => v.name === 'state')!;
    expect(state.persistentVolumeClaim?.claimName).toBe(pvc.metadata!.name);
    expect(only<V1Deployment>(m, 'Deployment').spec!.strategy).toEqual({ type: 'Recreate' });

    const existing = render({ namespace: 'ops', values: { persistence: { enabled: true, existingClaim: 'rollback-state' } } });
    expect(ofKind(existing, 'PersistentVolumeClaim')).toHaveLength(0);
    expect(only<V1Deployment>(existing, 'Deployment').spec!.template.spec!.volumes!.find((v) => v.name === 'state')!.persistentVolumeClaim?.claimName).toBe(
      'rollback-state',
    );
  });

  test('ServiceMonitor off; dashboard in the Grafana namespace; custom image', () => {
    expect(ofKind(m, 'ServiceMonitor')).toHaveLength(0);
    expect(only(m, 'ConfigMap', 'rr-rollback-receiver-dashboard').metadata.namespace).toBe('grafana');
    expect(container(m).image).toBe('registry.example.com/rollback-receiver:0.1.0-rc1');
  });

  test('NOTES.txt: live mode, the namespaces it may act in, the existing Secret as credentials_file', () => {
    const notes = renderNotes({ namespace: 'ops', release: 'rr', values: LIVE });
    expect(notes).toContain('MODE: LIVE');
    expect(notes).toContain('team-a, team-b');
    expect(notes).toContain('url: http://rr-rollback-receiver.ops.svc:9095/webhook');
    expect(notes).toContain('credentials_file: /etc/alertmanager/secrets/alertmanager-rollback/token');
    expect(notes).toContain('read routes are open');
  });

  test('rollback.dryRun: false is not turned back into true, and dryRun absent means dry-run', () => {
    expect(env(container(render({ values: { rollback: { dryRun: false } } }))).ROLLBACK_DRY_RUN).toBe('false');
    const withoutKey = render({ values: { rollback: { dryRun: null } } });
    expect(env(container(withoutKey))).toMatchObject({ ROLLBACK_DRY_RUN: 'true' });
    expect(loadRendered(withoutKey).dryRun).toBe(true);
  });

  test('given tokens are used as they are', () => {
    const r = render({ values: { auth: { webhookToken: 'w-token', operatorToken: 'o-token' } } });
    expect(decodeSecret(only<V1Secret>(r, 'Secret'))).toEqual({ 'webhook-token': 'w-token', 'operator-token': 'o-token' });
    const noOperator = render({ values: { auth: { operatorTokenEnabled: false } } });
    expect(Object.keys(decodeSecret(only<V1Secret>(noOperator, 'Secret')))).toEqual(['webhook-token']);
    expect(env(container(noOperator)).ROLLBACK_OPERATOR_TOKEN_FILE).toBeUndefined();
  });

  test('replicaCount 0 parks the receiver without a PodDisruptionBudget', () => {
    const parked = render({ values: { replicaCount: 0 } });
    expect(only<V1Deployment>(parked, 'Deployment').spec!.replicas).toBe(0);
    expect(ofKind(parked, 'PodDisruptionBudget')).toHaveLength(0);
  });

  test('a seed-only values file (the document\'s two blocks, nothing else) renders a config the receiver loads', () => {
    const values = { ...seedBlock('rollback').value, ...seedBlock('monitoring').value };
    const r = render({ values });
    const config = loadRendered(r);
    expect(config.rollback.triggers.map((t) => t.name)).toEqual(['health_check', 'error_rate', 'response_time']);
  });

  test('the chart refuses to render for a too-old cluster', () => {
    const r = renderRaw({ kubeVersion: 'v1.19.0', apiVersions: ['v1'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('incompatible with Kubernetes v1.19.0');
  });
});

describe('PrometheusRule helpers (contract with templates/prometheusrule.yaml)', () => {
  const PROBE = path.join(ROOT, 'test/helm/fixtures/helpers-probe.yaml');
  const KEYS = ['healthCheckFailures', 'errorRateThreshold', 'responseTimeThreshold', 'cpuThreshold', 'memoryThreshold'];

  function probe(values?: Record<string, unknown>): Record<string, string> {
    return only<V1ConfigMap>(render({ values, extraTemplates: [PROBE] }), 'ConfigMap', 'helpers-probe').data!;
  }
  const enabled = (d: Record<string, string>) => KEYS.filter((k) => d[`enabled.${k}`] === 'true');

  test('seed triggers: only the listed keys are enabled, with their thresholds', () => {
    const d = probe();
    expect(enabled(d)).toEqual(['healthCheckFailures', 'errorRateThreshold', 'responseTimeThreshold']);
    for (const k of ['cpuThreshold', 'memoryThreshold']) expect(d[`enabled.${k}`]).toBe('');
    expect(d['threshold.healthCheckFailures']).toBe('3');
    expect(d['threshold.errorRateThreshold']).toBe('0.1');
    expect(d['threshold.responseTimeThreshold']).toBe('5000');
    expect(d['threshold.cpuThreshold']).toBe('0.95');
    expect(d['threshold.memoryThreshold']).toBe('0.9');
  });

  test('an empty or absent triggers list enables every trigger, with the default thresholds', () => {
    for (const values of [{ rollback: { triggers: [] } }, { rollback: { triggers: null } }, { rollback: null }]) {
      const d = probe(values);
      expect(enabled(d)).toEqual(KEYS);
      expect(d['threshold.errorRateThreshold']).toBe('0.1');
    }
  });

  test('values come from the list; named triggers neither enable nor change seed keys', () => {
    const d = probe({
      rollback: {
        triggers: [{ cpuThreshold: 0.8 }, { responseTimeThreshold: 12_000_000 }, { name: 'checkout', matchers: ['alertname="CheckoutSlow"'], threshold: 7 }],
      },
    });
    expect(enabled(d)).toEqual(['responseTimeThreshold', 'cpuThreshold']);
    expect(d['threshold.cpuThreshold']).toBe('0.8');
    expect(d['threshold.responseTimeThreshold']).toBe('12000000');
    expect(d['threshold.errorRateThreshold']).toBe('0.1');
  });

  test('name, fullname and labels helpers', () => {
    const d = probe();
    expect(d.name).toBe('rollback-receiver');
    expect(d.fullname).toBe('rollback-receiver');
    expect(parse(d.selectorLabels!)).toEqual({ 'app.kubernetes.io/name': 'rollback-receiver', 'app.kubernetes.io/instance': 'rollback-receiver' });
    expect(parse(d.labels!)).toMatchObject(parse(d.selectorLabels!) as Record<string, string>);
  });
});
