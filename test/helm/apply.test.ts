/**
 * Every manifest the chart renders is accepted by a real kube-apiserver (v1.20, the
 * envtest cluster of this jest run) through server-side dry-run (?dryRun=All): full
 * validation and defaulting, nothing stored. The chart is rendered with the
 * capabilities that apiserver reports through discovery, as Helm would, and the
 * Prometheus Operator CRDs (ServiceMonitor, PrometheusRule) are installed first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { findAssets } from '../envtest/cluster.js';
import { connectCluster } from '../envtest/connect.js';
import { ROOT, render, type Manifest, type RenderOptions } from './chart.js';
import { discover, droppedFields, dryRunCreate, installCrds, type Discovery } from './kube.js';

const cluster = connectCluster();
let discovery: Discovery;

/**
 * Kubernetes 1.20 vendors modern-go/reflect2 1.0.1, which corrupts memory when built with
 * Go >= 1.18 (Debian's golang-go is 1.19): kube-apiserver then dies ("fatal error: fault"
 * in json-iterator's map encoder) on the first custom-resource request, taking every
 * other test file of the run down with it. Fail here, precisely, instead: the fixed build
 * vendors reflect2 1.0.2, whose go_above_118.go is compiled into the binary.
 */
async function assertApiServerHandlesCustomResources(): Promise<void> {
  const binary = path.join(await findAssets(), 'kube-apiserver');
  if (!fs.readFileSync(binary).includes('modern-go/reflect2/go_above_118.go')) {
    throw new Error(
      `${binary} was built with modern-go/reflect2 < 1.0.2 and Go >= 1.18: it crashes on any custom resource ` +
        '(ServiceMonitor, PrometheusRule), so the chart cannot be dry-run against it. Rebuild the envtest assets with ' +
        "Debian's golang-github-modern-go-reflect2-dev (1.0.2) copied over vendor/github.com/modern-go/reflect2 " +
        '(scripts/envtest/assets.sh).',
    );
  }
}

beforeAll(async () => {
  await assertApiServerHandlesCustomResources();
  await installCrds(cluster, fs.readFileSync(path.join(ROOT, 'test/helm/fixtures/crds.yaml'), 'utf8'));
  discovery = await discover(cluster);
}, 90_000);

interface Outcome {
  what: string;
  status: number;
  message?: string;
  dropped: string[];
}

/** Renders against the live apiserver's capabilities and dry-run creates every object. */
async function applyAll(opts: RenderOptions, namespace: string): Promise<{ manifests: Manifest[]; outcomes: Outcome[] }> {
  const manifests = render({ ...opts, namespace, kubeVersion: discovery.gitVersion, apiVersions: discovery.apiVersions });
  const outcomes: Outcome[] = [];
  for (const { source, object } of manifests) {
    const r = await dryRunCreate(cluster, discovery, object, namespace);
    outcomes.push({
      what: `${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name} (${path.basename(source)})`,
      status: r.status,
      message: r.status === 201 ? undefined : (r.body as { message?: string }).message ?? JSON.stringify(r.body),
      dropped: r.status === 201 ? droppedFields(object, r.body) : [],
    });
  }
  return { manifests, outcomes };
}

function expectAllCreated(outcomes: Outcome[]): void {
  // One readable list: every object 201 Created (dry-run) with no field dropped by the apiserver.
  expect(outcomes.filter((o) => o.status !== 201 || o.dropped.length > 0)).toEqual([]);
  expect(outcomes.length).toBeGreaterThan(0);
}

test('the envtest apiserver is v1.20 and serves PodDisruptionBudget only as policy/v1beta1', () => {
  expect(discovery.gitVersion).toMatch(/^v1\.20\./);
  expect(discovery.apiVersions).toContain('policy/v1beta1/PodDisruptionBudget');
  expect(discovery.apiVersions).not.toContain('policy/v1/PodDisruptionBudget');
  expect(discovery.apiVersions).toContain('monitoring.coreos.com/v1/ServiceMonitor');
});

test('default values, the kubernetes mode (with a token and one namespace): every rendered object passes server-side dry-run', async () => {
  const [ns, apps] = await Promise.all([cluster.ns('helm-default'), cluster.ns('apps')]);
  const { manifests, outcomes } = await applyAll({ release: 'rollback-receiver', values: { rbac: { namespaces: [apps] } } }, ns);
  expectAllCreated(outcomes);
  const kinds = manifests.map((m) => m.object.kind).sort();
  expect(kinds).toEqual(
    ['ConfigMap', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'PrometheusRule', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor'].sort(),
  );
  // The state Role and its binding in the release namespace, the target's in the listed one.
  expect(manifests.filter((m) => /^Role/.test(m.object.kind)).map((m) => [m.object.kind, m.object.metadata.name, m.object.metadata.namespace]).sort()).toEqual(
    [
      ['Role', 'rollback-receiver', apps],
      ['RoleBinding', 'rollback-receiver', apps],
      ['Role', 'rollback-receiver-state', ns],
      ['RoleBinding', 'rollback-receiver-state', ns],
    ].sort(),
  );
}, 60_000);

test('the sqlite mode (one replica): every rendered object passes server-side dry-run', async () => {
  const [ns, apps] = await Promise.all([cluster.ns('helm-sqlite'), cluster.ns('apps')]);
  const { manifests, outcomes } = await applyAll({ release: 'rollback-receiver', values: { rbac: { namespaces: [apps] }, state: { backend: 'sqlite' }, replicaCount: 1 } }, ns);
  expectAllCreated(outcomes);
  const kinds = manifests.map((m) => m.object.kind).sort();
  expect(kinds).toEqual(
    ['ConfigMap', 'ConfigMap', 'Deployment', 'PersistentVolumeClaim', 'PrometheusRule', 'Role', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor'].sort(),
  );
}, 60_000);

test('cluster-wide RBAC and a PodDisruptionBudget: every object passes server-side dry-run (policy/v1beta1 on v1.20)', async () => {
  const ns = await cluster.ns('helm-wide');
  const { manifests, outcomes } = await applyAll(
    { release: 'wide', values: { rbac: { clusterWide: true, namespaces: [] }, podDisruptionBudget: { enabled: true }, persistence: { enabled: false } } },
    ns,
  );
  expectAllCreated(outcomes);
  const kinds = manifests.map((m) => m.object.kind);
  expect(kinds).toEqual(expect.arrayContaining(['ClusterRole', 'ClusterRoleBinding', 'PodDisruptionBudget']));
  // Only the state Role, in the release namespace.
  expect(manifests.filter((m) => m.object.kind === 'Role').map((m) => [m.object.metadata.name, m.object.metadata.namespace])).toEqual([['wide-rollback-receiver-state', ns]]);
  expect(manifests.find((m) => m.object.kind === 'PodDisruptionBudget')!.object.apiVersion).toBe('policy/v1beta1');
}, 60_000);

test('non-default values (sqlite mode, live, namespaced RBAC, existingSecret, NetworkPolicy, PVC options, no ServiceMonitor, dashboard elsewhere): every object passes server-side dry-run', async () => {
  const [ns, teamA, teamB, grafana] = await Promise.all([cluster.ns('helm-live'), cluster.ns('team-a'), cluster.ns('team-b'), cluster.ns('grafana')]);
  const { manifests, outcomes } = await applyAll(
    {
      release: 'rr',
      required: {},
      values: {
        state: { backend: 'sqlite' },
        replicaCount: 1,
        rollback: { dryRun: false, triggers: [{ cpuThreshold: 0.9 }, { name: 'checkout', matchers: ['alertname="CheckoutSlow"'], strategy: 'blue-green', actAfter: '90s' }] },
        rbac: { namespaces: [teamA, teamB] },
        auth: { existingSecret: 'alertmanager-rollback', existingSecretKeys: { webhookToken: 'token', operatorToken: 'operator' } },
        persistence: { enabled: true, size: '2Gi', storageClass: '-' },
        serviceMonitor: { enabled: false },
        dashboard: { namespace: grafana, annotations: { grafana_folder: 'Rollbacks' } },
        shutdown: { grace: '5m' },
        networkPolicy: {
          enabled: true,
          apiServer: { cidrs: ['10.0.0.10/32'] },
          notifiers: [{ cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], ports: [443] }],
          extraEgress: [{ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'alertmanager' } } }], ports: [{ port: 9093, protocol: 'TCP' }] }],
        },
        image: { digest: `sha256:${'0'.repeat(64)}` },
        extraEnv: [{ name: 'SLACK_WEBHOOK_URL', valueFrom: { secretKeyRef: { name: 'slack', key: 'url' } } }],
        notifications: { slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL' } },
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' }],
      },
    },
    ns,
  );
  expectAllCreated(outcomes);
  const kinds = manifests.map((m) => m.object.kind);
  expect(kinds.filter((k) => k === 'Role')).toHaveLength(2);
  expect(kinds.filter((k) => k === 'RoleBinding')).toHaveLength(2);
  expect(kinds).toContain('PersistentVolumeClaim');
  expect(kinds).toContain('NetworkPolicy');
  expect(kinds).not.toContain('ServiceMonitor');
  expect(kinds).not.toContain('Secret');
  expect(kinds).not.toContain('ClusterRole');
}, 60_000);

test('a broken object is rejected and a misspelt field is reported as dropped (the check has teeth)', async () => {
  const ns = await cluster.ns('helm-teeth');
  const manifests = render({ namespace: ns, kubeVersion: discovery.gitVersion, apiVersions: discovery.apiVersions, values: { rbac: { namespaces: [ns] } } });
  const deployment = structuredClone(manifests.find((m) => m.object.kind === 'Deployment')!.object) as unknown as {
    spec: { selector: { matchLabels: Record<string, string> }; template: { spec: { containers: Record<string, unknown>[] } } };
  };
  const invalid = structuredClone(deployment);
  invalid.spec.selector.matchLabels = { app: 'something-else' };
  const rejected = await dryRunCreate(cluster, discovery, invalid as never, ns);
  expect(rejected.status).toBe(422);

  const misspelt = structuredClone(deployment);
  misspelt.spec.template.spec.containers[0]!.readinesProbe = { httpGet: { path: '/health/ready', port: 'http' } };
  const accepted = await dryRunCreate(cluster, discovery, misspelt as never, ns);
  expect(accepted.status).toBe(201);
  expect(droppedFields(misspelt, accepted.body)).toEqual(['spec.template.spec.containers[0].readinesProbe']);

  // The apiserver really validates NetworkPolicies: a port out of range is refused.
  const np = render({
    namespace: ns,
    kubeVersion: discovery.gitVersion,
    apiVersions: discovery.apiVersions,
    values: { rbac: { namespaces: [ns] }, networkPolicy: { enabled: true, apiServer: { cidrs: ['10.0.0.10/32'] } } },
  }).find((m) => m.object.kind === 'NetworkPolicy')!.object as unknown as { spec: { egress: { ports: { port: number }[] }[] } };
  expect((await dryRunCreate(cluster, discovery, np as never, ns)).status).toBe(201);
  np.spec.egress[1]!.ports[0]!.port = 70000;
  expect((await dryRunCreate(cluster, discovery, np as never, ns)).status).toBe(422);

  const sm = structuredClone(manifests.find((m) => m.object.kind === 'ServiceMonitor')!.object) as unknown as { spec: { endpoints: Record<string, unknown>[] } };
  sm.spec.endpoints[0]!.honourLabels = true;
  const smResult = await dryRunCreate(cluster, discovery, sm as never, ns);
  expect(smResult.status).toBe(201);
  expect(droppedFields(sm, smResult.body)).toEqual(['spec.endpoints[0].honourLabels']);
}, 60_000);
