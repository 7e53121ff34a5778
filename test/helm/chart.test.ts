/**
 * What the chart renders, with its defaults (plus the two values it requires) and each value
 * path: the Deployment's safety settings, the receiver's config (loaded by the receiver's
 * own loader), RBAC from src/kube/rbac-rules.yaml, tokens and checksums, the shutdown
 * grace, the state volume, ServiceMonitor and its CRD check, NetworkPolicy, dashboard, PDB,
 * and the render failures that say how to fix the values.
 */
import fs from 'node:fs';
import path from 'node:path';
import type {
  V1ClusterRoleBinding,
  V1ConfigMap,
  V1Container,
  V1Deployment,
  V1NetworkPolicy,
  V1PersistentVolumeClaim,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { buildConfig, parseConfigText, type Config } from '../../src/config/load.js';
import { CHART_DIR, MODERN_API_VERSIONS, REQUIRED_VALUES, ROOT, only, ofKind, render, renderNotes, renderRaw, type Manifest, type RenderOptions } from './chart.js';
import { seedBlock } from './seed.js';

const RULES = parse(fs.readFileSync(path.join(ROOT, 'src/kube/rbac-rules.yaml'), 'utf8')) as V1PolicyRule[];
const STATE_RULES = parse(fs.readFileSync(path.join(ROOT, 'src/kube/rbac-rules-state.yaml'), 'utf8')) as V1PolicyRule[];
const CHART = parse(fs.readFileSync(path.join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { name: string; appVersion: string; version: string };
const NS = 'monitoring';
/** Only the RBAC requirement: for renders that bring their own auth (existingSecret). */
const RBAC_ONLY = { rbac: REQUIRED_VALUES.rbac };
/** The chart's sqlite mode: one replica, the state in a SQLite file on a volume. */
const SQLITE = { state: { backend: 'sqlite' }, replicaCount: 1 };
/** The target Role (rbac.namespaces) and the state Role (kubernetes mode), told apart by their rules. */
const targetRoles = (m: Manifest[]) => (ofKind(m, 'Role') as unknown as V1Role[]).filter((r) => !r.metadata!.name!.endsWith('-state'));
const stateRoles = (m: Manifest[]) => (ofKind(m, 'Role') as unknown as V1Role[]).filter((r) => r.metadata!.name!.endsWith('-state'));

function deployment(m: Manifest[]): V1Deployment {
  return only<V1Deployment>(m, 'Deployment');
}

function container(m: Manifest[]): V1Container {
  const c = deployment(m).spec!.template.spec!.containers;
  expect(c).toHaveLength(1);
  return c[0]!;
}

function env(c: V1Container): Record<string, string> {
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
}

const podAnnotations = (m: Manifest[]) => deployment(m).spec!.template.metadata!.annotations ?? {};
const gracePeriod = (opts: RenderOptions) => deployment(render(opts)).spec!.template.spec!.terminationGracePeriodSeconds;

/** The config file the receiver reads: the ConfigMap key at the path ROLLBACK_CONFIG names. */
function receiverConfigText(m: Manifest[]): string {
  const c = container(m);
  const file = env(c).ROLLBACK_CONFIG!;
  const mount = c.volumeMounts!.find((vm) => file.startsWith(`${vm.mountPath}/`))!;
  const volume = deployment(m).spec!.template.spec!.volumes!.find((v) => v.name === mount.name)!;
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

/** Renders expecting a failure; returns the message. */
function renderError(opts: RenderOptions): string {
  const r = renderRaw(opts);
  expect(r.stdout).toBe('');
  expect(r.status).not.toBe(0);
  return r.stderr;
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

describe('default values (with the two required ones: a webhook token and rbac.namespaces): the kubernetes mode', () => {
  const m = render({ namespace: NS });

  test('renders the expected objects: target RBAC in the listed namespace, state RBAC and a PDB in its own, no PVC, no ClusterRole, no NetworkPolicy', () => {
    const kinds = m.map((x) => x.object.kind).sort();
    expect(kinds).toEqual(
      ['ConfigMap', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'PrometheusRule', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor'].sort(),
    );
    expect(ofKind(m, 'ConfigMap').map((c) => c.metadata.name).sort()).toEqual(['rollback-receiver-config', 'rollback-receiver-dashboard']);
    for (const { object } of m) {
      const inTarget = ['Role', 'RoleBinding'].includes(object.kind) && object.metadata.name === 'rollback-receiver';
      expect([object.kind, object.metadata.name, object.metadata.namespace]).toEqual([object.kind, object.metadata.name, inTarget ? 'apps' : NS]);
      expect(object.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'rollback-receiver',
        'app.kubernetes.io/instance': 'rollback-receiver',
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': `rollback-receiver-${CHART.version}`,
      });
    }
  });

  test('Deployment: two replicas, RollingUpdate (a new pod ready before an old one goes), probes, resources, hardened security context', () => {
    const d = deployment(m);
    const pod = d.spec!.template.spec!;
    const c = container(m);
    expect(d.spec!.replicas).toBe(2);
    expect(d.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
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
    expect(pod.serviceAccountName).not.toBe('default');
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(d.spec!.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'rollback-receiver', 'app.kubernetes.io/instance': 'rollback-receiver' });
    expect(d.spec!.template.metadata!.labels).toMatchObject(d.spec!.selector.matchLabels!);
  });

  test('terminationGracePeriodSeconds is shutdown.grace (60s) plus terminationGraceMargin (15s)', () => {
    expect(deployment(m).spec!.template.spec!.terminationGracePeriodSeconds).toBe(75);
    expect(loadRendered(m).shutdownGraceMs).toBe(60_000);
  });

  test('checksum annotations of the config and of the Secret restart the pod when either changes', () => {
    const a = podAnnotations(m);
    expect(a['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    expect(a['checksum/secret']).toMatch(/^[0-9a-f]{64}$/);
    const newToken = podAnnotations(render({ namespace: NS, values: { auth: { webhookToken: 'rotated-token' } } }));
    expect(newToken['checksum/secret']).not.toBe(a['checksum/secret']);
    expect(newToken['checksum/config']).toBe(a['checksum/config']);
    const newConfig = podAnnotations(render({ namespace: NS, values: { rollback: { cooldownPeriod: 600 } } }));
    expect(newConfig['checksum/config']).not.toBe(a['checksum/config']);
    expect(newConfig['checksum/secret']).toBe(a['checksum/secret']);
    // The same values render the same annotations: nothing random.
    expect(podAnnotations(render({ namespace: NS }))).toEqual(a);
  });

  test('Deployment environment: dry-run, Prometheus URL, config, state dir, the pod identity and the webhook token file (no operator token)', () => {
    const c = container(m);
    const e = env(c);
    expect(e).toMatchObject({
      PORT: '9095',
      ROLLBACK_DRY_RUN: 'true',
      PROMETHEUS_URL: 'http://kube-prometheus-stack-prometheus.monitoring.svc:9090',
      ROLLBACK_CONFIG: '/etc/rollback-receiver/config.yaml',
      ROLLBACK_STATE_DIR: '/var/lib/rollback-receiver',
      ROLLBACK_WEBHOOK_TOKEN_FILE: '/var/run/secrets/rollback-receiver/webhook-token',
      LOG_LEVEL: 'info',
    });
    expect(e.ROLLBACK_OPERATOR_TOKEN_FILE).toBeUndefined();
    // The Lease holder's pod name and the state's namespace, from the downward API.
    const downward = Object.fromEntries((c.env ?? []).filter((x) => x.valueFrom).map((x) => [x.name, x.valueFrom]));
    expect(downward).toEqual({ POD_NAME: { fieldRef: { fieldPath: 'metadata.name' } }, POD_NAMESPACE: { fieldRef: { fieldPath: 'metadata.namespace' } } });
    const pod = deployment(m).spec!.template.spec!;
    const mountOf = (p: string) => c.volumeMounts!.find((vm) => p === vm.mountPath || p.startsWith(`${vm.mountPath}/`));
    const volumeOf = (p: string) => pod.volumes!.find((v) => v.name === mountOf(p)?.name);
    // The state dir (this replica's decision records) is writable (root filesystem is read-only) and on an emptyDir.
    expect(mountOf(e.ROLLBACK_STATE_DIR!)?.readOnly).toBeFalsy();
    expect(volumeOf(e.ROLLBACK_STATE_DIR!)?.emptyDir).toEqual({ sizeLimit: '256Mi' });
    expect(volumeOf('/tmp')?.emptyDir).toBeDefined();
    const secret = only<V1Secret>(m, 'Secret');
    const tokens = volumeOf(e.ROLLBACK_WEBHOOK_TOKEN_FILE!)!.secret!;
    expect(tokens.secretName).toBe(secret.metadata!.name);
    expect(tokens.defaultMode).toBe(0o440);
    expect(tokens.items).toEqual([{ key: 'webhook-token', path: path.basename(e.ROLLBACK_WEBHOOK_TOKEN_FILE!) }]);
  });

  test('Secret: exactly the webhook token of the values, nothing generated, nothing kept after uninstall', () => {
    const secret = only<V1Secret>(m, 'Secret');
    expect(decodeSecret(secret)).toEqual({ 'webhook-token': REQUIRED_VALUES.auth.webhookToken });
    expect(secret.metadata!.annotations).toBeUndefined();
  });

  test('no template looks the cluster up or makes a random value (every render of the same values is the same)', () => {
    for (const file of fs.readdirSync(path.join(CHART_DIR, 'templates'))) {
      const text = fs.readFileSync(path.join(CHART_DIR, 'templates', file), 'utf8').replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '');
      const actions = text.match(/\{\{[\s\S]*?\}\}/g) ?? [];
      expect([file, actions.filter((a) => /\b(lookup|randAlphaNum|randAlpha|randNumeric|randAscii|randBytes|uuidv4|now)\b/.test(a))]).toEqual([file, []]);
    }
    expect(renderRaw().stdout).toBe(renderRaw().stdout);
  });

  test("the ConfigMap's config is accepted by the receiver's own loader, with the seed's settings", () => {
    const text = receiverConfigText(m);
    const file = parse(text) as Record<string, Record<string, unknown>>;
    expect(file.rollback).toMatchObject(seedBlock('rollback').value.rollback as Record<string, unknown>);
    expect(file.monitoring).toMatchObject(seedBlock('monitoring').value.monitoring as Record<string, unknown>);
    expect(file.shutdown).toEqual({ grace: '60s' });
    expect(file.auth).toBeUndefined();
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
    expect(config.state).toEqual({ backend: 'kubernetes', namespace: undefined, leaseDurationMs: 15_000 });
    expect(config.port).toBe(9095);
    expect(config.monitoring).toMatchObject({ enabled: true });
    expect(JSON.stringify(config.monitoring)).toContain('1800000');
  });

  test('Role rules are exactly src/kube/rbac-rules.yaml in the target namespace and src/kube/rbac-rules-state.yaml in the receiver\'s, bound to the chart ServiceAccount', () => {
    for (const [role, rules, namespace] of [
      [only<V1Role>(m, 'Role', 'rollback-receiver'), RULES, 'apps'],
      [only<V1Role>(m, 'Role', 'rollback-receiver-state'), STATE_RULES, NS],
    ] as const) {
      expect([role.metadata!.namespace, role.rules]).toEqual([namespace, rules]);
      const binding = only<V1RoleBinding>(m, 'RoleBinding', role.metadata!.name);
      expect(binding.metadata!.namespace).toBe(namespace);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata!.name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: only(m, 'ServiceAccount').metadata.name, namespace: NS }]);
    }
  });

  test('PodDisruptionBudget: one replica of two may be evicted at a time', () => {
    const pdb = only(m, 'PodDisruptionBudget') as unknown as { spec: Record<string, unknown> };
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: deployment(m).spec!.selector.matchLabels } });
  });

  test('pod anti-affinity: preferred, by hostname, over the release\'s pods; a given affinity replaces it', () => {
    expect(deployment(m).spec!.template.spec!.affinity).toEqual({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: deployment(m).spec!.selector.matchLabels } } },
        ],
      },
    });
    const own = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['ops'] }] }] } } };
    expect(deployment(render({ values: { affinity: own } })).spec!.template.spec!.affinity).toEqual(own);
    expect(deployment(render({ values: { replicaCount: 1 } })).spec!.template.spec!.affinity).toBeUndefined();
  });

  test('persistence values do not give the replicas a shared volume: no PVC, the records stay on an emptyDir', () => {
    const r = render({ values: { persistence: { enabled: true, existingClaim: 'rollback-state' } } });
    expect(ofKind(r, 'PersistentVolumeClaim')).toHaveLength(0);
    expect(deployment(r).spec!.template.spec!.volumes!.find((v) => v.name === 'state')).toEqual({ name: 'state', emptyDir: { sizeLimit: '256Mi' } });
  });

  test('state.namespace: the state Role goes there, and the receiver uses it', () => {
    const r = render({ values: { state: { namespace: 'rollback-state' } } });
    expect(stateRoles(r).map((x) => [x.metadata!.namespace, x.rules])).toEqual([['rollback-state', STATE_RULES]]);
    expect(only<V1RoleBinding>(r, 'RoleBinding', 'rollback-receiver-state').metadata!.namespace).toBe('rollback-state');
    expect(loadRendered(r).state.namespace).toBe('rollback-state');
  });

  test('NOTES says the mode and what it means', () => {
    const notes = renderNotes();
    expect(notes).toContain('STATE: kubernetes backend, 2 replica(s).');
    expect(notes).toContain('shared through Leases and ConfigMaps in namespace\nmonitoring');
    expect(notes).toContain('decision\nrecords on an emptyDir');
    expect(notes).not.toContain('STATE: sqlite');
  });

  test('Service on 9095 selects the pods', () => {
    const svc = only<V1Service>(m, 'Service');
    expect(svc.spec!.ports).toEqual([{ name: 'http', port: 9095, targetPort: 'http', protocol: 'TCP' }]);
    expect(deployment(m).spec!.template.metadata!.labels).toMatchObject(svc.spec!.selector!);
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
});

describe('the sqlite mode (state.backend sqlite, one replica)', () => {
  const m = render({ namespace: NS, values: SQLITE });

  test('one replica, Recreate, the state on a ReadWriteOnce PVC of the default storage class kept on uninstall', () => {
    const d = deployment(m);
    expect(d.spec!.replicas).toBe(1);
    expect(d.spec!.strategy).toEqual({ type: 'Recreate' });
    const pvc = only<V1PersistentVolumeClaim>(m, 'PersistentVolumeClaim');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
    expect(pvc.metadata!.annotations!['helm.sh/resource-policy']).toBe('keep');
    const e = env(container(m));
    const mount = container(m).volumeMounts!.find((vm) => vm.mountPath === e.ROLLBACK_STATE_DIR)!;
    expect(d.spec!.template.spec!.volumes!.find((v) => v.name === mount.name)!.persistentVolumeClaim?.claimName).toBe(pvc.metadata!.name);
    expect(loadRendered(m).state.backend).toBe('sqlite');
  });

  test('no state Role, no PDB, no anti-affinity, no pod identity', () => {
    expect(stateRoles(m)).toEqual([]);
    expect(targetRoles(m)).toHaveLength(1);
    expect(ofKind(m, 'PodDisruptionBudget')).toHaveLength(0);
    expect(deployment(m).spec!.template.spec!.affinity).toBeUndefined();
    expect(container(m).env!.filter((x) => x.valueFrom)).toEqual([]);
  });

  test('NOTES says the mode and what it means', () => {
    const notes = renderNotes({ values: SQLITE });
    expect(notes).toContain('STATE: sqlite, one replica.');
    expect(notes).toContain('in one SQLite file on the volume rollback-receiver-state');
    expect(notes).toContain('use state.backend=kubernetes');
    expect(notes).not.toContain('STATE: kubernetes');
  });

  test('more than one replica (also the default two) is refused, naming the key', () => {
    for (const values of [{ ...SQLITE, replicaCount: 2 }, { state: { backend: 'sqlite' } }]) {
      const message = renderError({ values });
      expect(message).toContain("values don't meet the specifications of the schema");
      expect(message).toContain('- replicaCount: Must be less than or equal to 1');
    }
  });

  test('the receiver\'s own default: a state block without a backend is sqlite, and renders as sqlite', () => {
    const r = render({ values: { state: { backend: null }, replicaCount: 1 } });
    expect(loadRendered(r).state.backend).toBe('sqlite');
    expect(deployment(r).spec!.strategy).toEqual({ type: 'Recreate' });
    expect(stateRoles(r)).toEqual([]);
  });
});

describe('what the chart cannot default: the render fails and says how to set it', () => {
  test('no webhook token: set auth.webhookToken or auth.existingSecret', () => {
    const message = renderError({ required: RBAC_ONLY });
    expect(message).toContain('Set auth.webhookToken (e.g. --set auth.webhookToken="$(openssl rand -hex 32)")');
    expect(message).toContain('or auth.existingSecret to a Secret holding it under key webhook-token');
  });

  test('both an existing Secret and tokens in values', () => {
    expect(renderError({ values: { auth: { existingSecret: 'mine' } } })).toContain('set auth.existingSecret or the tokens (auth.webhookToken, auth.operatorToken), not both');
  });

  test('no RBAC scope: list rbac.namespaces or opt in to rbac.clusterWide', () => {
    const message = renderError({ required: { auth: REQUIRED_VALUES.auth } });
    expect(message).toContain('rbac.namespaces={team-a,team-b} (a Role in each, least privilege), or rbac.clusterWide=true');
    expect(renderError({ values: { rbac: { clusterWide: true } } })).toContain('rbac.clusterWide=true grants every namespace; leave rbac.namespaces empty');
  });

  test.each([
    ['create=false without a name', { serviceAccount: { create: false } }],
    ['create=false naming "default"', { serviceAccount: { create: false, name: 'default' } }],
    ['create=true naming "default"', { serviceAccount: { create: true, name: 'default' } }],
  ])('RBAC bound to the namespace\'s "default" ServiceAccount (%s)', (_what, values) => {
    expect(renderError({ values })).toContain('the RBAC would be bound to the namespace\'s "default" ServiceAccount');
  });

  test('a ServiceAccount of its own (create=false with a name), or no RBAC from the chart, renders', () => {
    const own = render({ values: { serviceAccount: { create: false, name: 'rollback-sa' } } });
    expect(ofKind(own, 'ServiceAccount')).toHaveLength(0);
    for (const b of ofKind(own, 'RoleBinding') as unknown as V1RoleBinding[]) expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'rollback-sa', namespace: NS }]);
    expect(ofKind(own, 'RoleBinding')).toHaveLength(2);
    expect(deployment(own).spec!.template.spec!.serviceAccountName).toBe('rollback-sa');
    const noRbac = render({ values: { rbac: { create: false, namespaces: [] } } });
    expect(noRbac.filter((x) => /Role/.test(x.object.kind))).toEqual([]);
  });

  test('a shutdown.grace, terminationGraceMargin or executionTimeout the chart cannot compute with', () => {
    expect(renderError({ values: { shutdown: { grace: 'soon' } } })).toContain('- shutdown.grace');
    expect(renderError({ values: { terminationGraceMargin: '1500ms' } })).toContain('- terminationGraceMargin');
    // The receiver reads 1500ms; the chart's computations take d, h, m and s only, and say so.
    expect(renderError({ values: { rollback: { executionTimeout: '1500ms' } } })).toContain('rollback.executionTimeout: "1500ms" is not a duration (use seconds, or d, h, m and s');
  });
});

describe('value paths', () => {
  const LIVE = {
    ...SQLITE,
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
  const m = render({ namespace: 'ops', release: 'rr', required: {}, values: LIVE });

  test('GitOps pause: no access to Argo CD or Flux objects unless values name their namespaces', () => {
    const gitopsRoles = (r: Manifest[]) => (ofKind(r, 'Role') as unknown as V1Role[]).filter((x) => x.metadata!.name!.endsWith('-gitops'));
    expect(gitopsRoles(m)).toEqual([]);
    const r = render({ namespace: 'ops', release: 'rr', values: { rbac: { namespaces: ['team-a'], gitops: { argocdNamespaces: ['argocd'], fluxNamespaces: ['flux-system', 'argocd'] } } } });
    const roles = gitopsRoles(r);
    const rules = (file: string) => parse(fs.readFileSync(path.join(ROOT, 'src/kube', file), 'utf8')) as V1PolicyRule[];
    expect(Object.fromEntries(roles.map((x) => [x.metadata!.namespace, x.rules]))).toEqual({
      argocd: [...rules('rbac-rules-argocd.yaml'), ...rules('rbac-rules-flux.yaml')],
      'flux-system': rules('rbac-rules-flux.yaml'),
    });
    const bindings = (ofKind(r, 'RoleBinding') as unknown as V1RoleBinding[]).filter((b) => b.roleRef.name.endsWith('-gitops'));
    expect(bindings.map((b) => [b.metadata!.namespace, b.subjects])).toEqual(
      roles.map((x) => [x.metadata!.namespace, [{ kind: 'ServiceAccount', name: only(r, 'ServiceAccount').metadata.name, namespace: 'ops' }]]),
    );
    // The executor's Roles are unchanged by it.
    expect((ofKind(r, 'Role') as unknown as V1Role[]).filter((x) => !x.metadata!.name!.endsWith('-gitops') && x.rules!.length === RULES.length).map((x) => x.metadata!.namespace)).toContain('team-a');
  });

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

  test('rbac.clusterWide: one ClusterRole (named after the release namespace) and its binding, no target Role (the state Role stays)', () => {
    const wide = render({ namespace: NS, values: { rbac: { clusterWide: true, namespaces: [] } } });
    expect(targetRoles(wide)).toHaveLength(0);
    expect(stateRoles(wide).map((r) => r.metadata!.namespace)).toEqual([NS]);
    const role = only<V1Role>(wide, 'ClusterRole');
    expect(role.metadata!.name).toBe('monitoring-rollback-receiver');
    expect(role.rules).toEqual(RULES);
    const binding = only<V1ClusterRoleBinding>(wide, 'ClusterRoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata!.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: only(wide, 'ServiceAccount').metadata.name, namespace: NS }]);
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

  test('existingSecret: no chart Secret and no Secret checksum, the webhook token comes from the given key, no operator token', () => {
    expect(ofKind(m, 'Secret')).toHaveLength(0);
    expect(podAnnotations(m)['checksum/secret']).toBeUndefined();
    expect(podAnnotations(m)['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    const e = env(container(m));
    expect(e.ROLLBACK_WEBHOOK_TOKEN_FILE).toBe('/var/run/secrets/rollback-receiver/webhook-token');
    expect(e.ROLLBACK_OPERATOR_TOKEN_FILE).toBeUndefined();
    const tokens = deployment(m).spec!.template.spec!.volumes!.find((v) => v.secret)!.secret!;
    expect(tokens.secretName).toBe('alertmanager-rollback');
    expect(tokens.items).toEqual([{ key: 'token', path: 'webhook-token' }]);

    const withOperator = render({ required: RBAC_ONLY, values: { auth: { existingSecret: 'rr', existingSecretKeys: { webhookToken: 'w', operatorToken: 'o' } } } });
    expect(deployment(withOperator).spec!.template.spec!.volumes!.find((v) => v.secret)!.secret!.items).toEqual([
      { key: 'w', path: 'webhook-token' },
      { key: 'o', path: 'operator-token' },
    ]);
    expect(env(container(withOperator)).ROLLBACK_OPERATOR_TOKEN_FILE).toBe('/var/run/secrets/rollback-receiver/operator-token');
  });

  test('given tokens are used as they are; an operator token adds its file', () => {
    const r = render({ values: { auth: { webhookToken: 'w-token', operatorToken: 'o-token' } } });
    expect(decodeSecret(only<V1Secret>(r, 'Secret'))).toEqual({ 'webhook-token': 'w-token', 'operator-token': 'o-token' });
    expect(env(container(r)).ROLLBACK_OPERATOR_TOKEN_FILE).toBe('/var/run/secrets/rollback-receiver/operator-token');
  });

  test.each([
    [{ shutdown: { grace: '2m' } }, 135],
    [{ shutdown: { grace: 300 } }, 315],
    [{ shutdown: { grace: '1h30m' } }, 5415],
    [{ shutdown: { grace: 0 } }, 15],
    [{ shutdown: { grace: 60 }, terminationGraceMargin: '30s' }, 90],
    [{ shutdown: null }, 75],
  ])('terminationGracePeriodSeconds follows shutdown.grace: %j -> %i', (values, seconds) => {
    expect(gracePeriod({ values })).toBe(seconds);
  });

  test('persistence: size and storage class; an existing claim; or an emptyDir (with a NOTES warning)', () => {
    const pvc = only<V1PersistentVolumeClaim>(m, 'PersistentVolumeClaim');
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: 'fast-ssd', resources: { requests: { storage: '2Gi' } } });
    expect(deployment(m).spec!.template.spec!.volumes!.find((v) => v.name === 'state')!.persistentVolumeClaim?.claimName).toBe(pvc.metadata!.name);

    const existing = render({ namespace: 'ops', values: { ...SQLITE, persistence: { existingClaim: 'rollback-state' } } });
    expect(ofKind(existing, 'PersistentVolumeClaim')).toHaveLength(0);
    expect(deployment(existing).spec!.template.spec!.volumes!.find((v) => v.name === 'state')!.persistentVolumeClaim?.claimName).toBe('rollback-state');

    const ephemeral = { ...SQLITE, persistence: { enabled: false } };
    const off = render({ values: ephemeral });
    expect(ofKind(off, 'PersistentVolumeClaim')).toHaveLength(0);
    expect(deployment(off).spec!.template.spec!.volumes!.find((v) => v.name === 'state')!.emptyDir).toEqual({ sizeLimit: '256Mi' });
    expect(renderNotes({ values: ephemeral })).toContain('NOTE: the state (decisions, cooldowns, retry counts, the brake) is on an emptyDir');
    expect(renderNotes({ values: SQLITE })).not.toContain('emptyDir');
  });

  test('ServiceMonitor off; dashboard in the Grafana namespace; custom image', () => {
    expect(ofKind(m, 'ServiceMonitor')).toHaveLength(0);
    expect(only(m, 'ConfigMap', 'rr-rollback-receiver-dashboard').metadata.namespace).toBe('grafana');
    expect(container(m).image).toBe('registry.example.com/rollback-receiver:0.1.0-rc1');
  });

  test('a cluster without the Prometheus Operator CRDs: no ServiceMonitor, no PrometheusRule, and NOTES says why', () => {
    const apiVersions = MODERN_API_VERSIONS.filter((v) => !v.startsWith('monitoring.coreos.com/'));
    const kinds = render({ apiVersions }).map((x) => x.object.kind);
    expect(kinds).not.toContain('ServiceMonitor');
    expect(kinds).not.toContain('PrometheusRule');
    expect(kinds).toContain('Deployment');
    const notes = renderNotes({ apiVersions });
    expect(notes).toContain('WARNING: no ServiceMonitor was rendered: the cluster does not serve monitoring.coreos.com/v1');
    expect(notes).toContain('WARNING: no PrometheusRule was rendered');
    expect(renderNotes()).not.toContain('WARNING');
  });

  test('rollback.dryRun: false is not turned back into true, and dryRun absent means dry-run', () => {
    expect(env(container(render({ values: { rollback: { dryRun: false } } }))).ROLLBACK_DRY_RUN).toBe('false');
    const withoutKey = render({ values: { rollback: { dryRun: null } } });
    expect(env(container(withoutKey))).toMatchObject({ ROLLBACK_DRY_RUN: 'true' });
    expect(loadRendered(withoutKey).dryRun).toBe(true);
  });

  test('PodDisruptionBudget: policy/v1 where served, policy/v1beta1 on a v1.20 apiserver; none with one replica, when parked or when disabled', () => {
    const modern = only(render(), 'PodDisruptionBudget') as unknown as { apiVersion: string; spec: Record<string, unknown> };
    expect(modern.apiVersion).toBe('policy/v1');
    expect(modern.spec).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: deployment(render()).spec!.selector.matchLabels } });
    const old = render({ kubeVersion: 'v1.20.2', apiVersions: ['v1', 'apps/v1', 'policy/v1beta1', 'policy/v1beta1/PodDisruptionBudget'] });
    expect(only(old, 'PodDisruptionBudget').apiVersion).toBe('policy/v1beta1');
    const three = only(render({ values: { replicaCount: 3, podDisruptionBudget: { minAvailable: 2 } } }), 'PodDisruptionBudget') as unknown as { spec: Record<string, unknown> };
    expect(three.spec.minAvailable).toBe(2);
    const parked = render({ values: { replicaCount: 0 } });
    expect(deployment(parked).spec!.replicas).toBe(0);
    for (const values of [{ replicaCount: 0 }, { replicaCount: 1 }, SQLITE, { podDisruptionBudget: { enabled: false } }]) {
      expect([values, ofKind(render({ values }), 'PodDisruptionBudget')]).toEqual([values, []]);
    }
  });

  test('a seed-only values file (the document\'s two blocks, nothing else) renders a config the receiver loads', () => {
    const values = { ...seedBlock('rollback').value, ...seedBlock('monitoring').value };
    const config = loadRendered(render({ values }));
    expect(config.rollback.triggers.map((t) => t.name)).toEqual(['health_check', 'error_rate', 'response_time']);
  });

  test('the chart refuses to render for a too-old cluster', () => {
    const r = renderRaw({ kubeVersion: 'v1.19.0', apiVersions: ['v1'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('incompatible with Kubernetes v1.19.0');
  });
});

describe('NetworkPolicy', () => {
  const ENABLED = {
    networkPolicy: {
      enabled: true,
      apiServer: { cidrs: ['10.0.0.10/32', '10.0.0.11/32'] },
      notifiers: [{ cidr: '0.0.0.0/0', except: ['10.0.0.0/8'], ports: [443] }],
      extraEgress: [{ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'alertmanager' } } }], ports: [{ port: 9093, protocol: 'TCP' }] }],
    },
  };

  test('off by default', () => {
    expect(ofKind(render(), 'NetworkPolicy')).toHaveLength(0);
  });

  test('ingress from Alertmanager and Prometheus only; egress to DNS, the API server, Prometheus, the notifiers and extraEgress', () => {
    const m = render({ namespace: NS, values: ENABLED });
    const np = only<V1NetworkPolicy>(m, 'NetworkPolicy');
    const kps = (name: string) => ({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': name } },
    });
    expect(np.spec!.podSelector).toEqual({ matchLabels: deployment(m).spec!.selector.matchLabels });
    expect(np.spec!.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec!.ingress).toEqual([{ from: [kps('alertmanager'), kps('prometheus')], ports: [{ port: 'http', protocol: 'TCP' }] }]);
    expect(np.spec!.egress).toEqual([
      {
        to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      {
        to: [{ ipBlock: { cidr: '10.0.0.10/32' } }, { ipBlock: { cidr: '10.0.0.11/32' } }],
        ports: [
          { port: 443, protocol: 'TCP' },
          { port: 6443, protocol: 'TCP' },
        ],
      },
      { to: [kps('prometheus')], ports: [{ port: 9090, protocol: 'TCP' }] },
      { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ port: 443, protocol: 'TCP' }] },
      ENABLED.networkPolicy.extraEgress[0],
    ]);
  });

  test('without the API server addresses the render fails and says how to find them', () => {
    expect(renderError({ values: { networkPolicy: { enabled: true } } })).toContain(
      "networkPolicy.apiServer.cidrs: the receiver must reach the Kubernetes API. List its endpoint addresses (kubectl get endpoints kubernetes -n default",
    );
    expect(renderError({ values: { networkPolicy: { enabled: true, apiServer: { cidrs: ['10.0.0.10'] } } } })).toContain('- networkPolicy.apiServer.cidrs.0');
  });
});

describe('NOTES.txt', () => {
  test('dry-run by default; live names the namespaces it may act in', () => {
    expect(renderNotes()).toContain('MODE: DRY-RUN');
    const live = renderNotes({ values: { rollback: { dryRun: false }, rbac: { namespaces: ['team-a', 'team-b'] } } });
    expect(live).toContain('MODE: LIVE. Matching alerts roll workloads back in: team-a, team-b.');
    expect(renderNotes({ values: { rollback: { dryRun: false }, rbac: { clusterWide: true, namespaces: [] } } })).toContain('in any namespace not denied by rollback.namespaces');
    expect(live).not.toContain('<no value>');
  });

  test('no operator token: read routes are open; with one, the commands read it from the Secret', () => {
    expect(renderNotes()).toContain('no operator token: read routes are open');
    const withToken = renderNotes({ values: { auth: { operatorToken: 'o' } } });
    expect(withToken).toContain("kubectl get secret rollback-receiver-tokens -n monitoring -o jsonpath='{.data.operator-token}'");
  });
});

describe('helpers (contract with templates/prometheusrule.yaml and the computed fields)', () => {
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

  test('durations to whole seconds, seconds to Prometheus durations, numbers without exponents', () => {
    const d = probe();
    expect(Object.fromEntries(Object.entries(d).filter(([k]) => k.startsWith('seconds.')))).toEqual({
      'seconds.90s': '90',
      'seconds.5m': '300',
      'seconds.1h30m': '5400',
      'seconds.2d': '172800',
      'seconds.1m30s': '90',
      'seconds.45': '45',
      'seconds.0': '0',
      'seconds.12.5': '13',
    });
    expect(Object.fromEntries(Object.entries(d).filter(([k]) => k.startsWith('promDuration.')))).toEqual({
      'promDuration.240': '4m',
      'promDuration.90': '90s',
      'promDuration.7200': '2h',
      'promDuration.3660': '61m',
      'promDuration.0': '0s',
    });
    expect(Object.fromEntries(Object.entries(d).filter(([k]) => k.startsWith('number.')))).toEqual({ 'number.5000': '5000', 'number.0.25': '0.25', 'number.1': '1' });
  });

  test('name, fullname and labels helpers', () => {
    const d = probe();
    expect(d.name).toBe('rollback-receiver');
    expect(d.fullname).toBe('rollback-receiver');
    expect(parse(d.selectorLabels!)).toEqual({ 'app.kubernetes.io/name': 'rollback-receiver', 'app.kubernetes.io/instance': 'rollback-receiver' });
    expect(parse(d.labels!)).toMatchObject(parse(d.selectorLabels!) as Record<string, string>);
  });
});
