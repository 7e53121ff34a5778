/** Splitting a release manifest into the objects a rollback touches, and their API paths. */
import { UnsafeNameError } from '../../src/kube/paths.js';
import { inInstallOrder, inUninstallOrder, objectPath, SUPPORTED_KINDS } from '../../src/execution/helm/kinds.js';
import { objectKey, splitManifest } from '../../src/execution/helm/manifest.js';
import { configMap, cronJob, deployment, doc, hpa, service } from './fixture.js';

describe('release manifest', () => {
  it('splits documents, keeps their # Source, defaults the namespace and skips empty templates', () => {
    const manifest =
      configMap('settings', { a: '1' }) +
      '---\n# Source: shop/templates/empty.yaml\n' +
      doc('other-ns.yaml', 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n  namespace: jobs') +
      deployment('api', 'app:v1', { A: '1' });
    const { objects, problems } = splitManifest(manifest, 'prod');
    expect(problems).toEqual([]);
    expect(objects.map((o) => [o.kind, o.namespace, o.name, o.source])).toEqual([
      ['ConfigMap', 'prod', 'settings', 'shop/templates/settings.yaml'],
      ['ServiceAccount', 'jobs', 'runner', 'shop/templates/other-ns.yaml'],
      ['Deployment', 'prod', 'api', 'shop/templates/deployment.yaml'],
    ]);
    expect(objects[2]!.body).toMatchObject({ metadata: { name: 'api', namespace: 'prod' }, spec: { replicas: 2 } });
  });

  it('reads YAML 1.1 as Kubernetes does', () => {
    const { objects } = splitManifest(configMap('c', {}).replace(/^data:$/m, 'data:\n  enabled: yes'), 'prod');
    expect(objects[0]!.body.data).toEqual({ enabled: true });
  });

  it('names unsupported kinds, and kinds at an API group they are not served from', () => {
    const manifest = cronJob('cleanup') + doc('role.yaml', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: r') + doc('old.yaml', 'apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata:\n  name: old') + service('api');
    const { objects, problems } = splitManifest(manifest, 'prod');
    expect(problems).toEqual(['unsupported kinds: CronJob, Deployment (extensions/v1beta1), Role']);
    expect(objects.map((o) => o.kind)).toEqual(['Service']);
  });

  it('names documents that are not YAML or not objects', () => {
    const { problems } = splitManifest(doc('bad.yaml', 'kind: [') + doc('list.yaml', '- a\n- b'), 'prod');
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^manifest document 1 \(shop\/templates\/bad\.yaml\) is not valid YAML: /);
    expect(problems[1]).toBe('manifest document 2 (shop/templates/list.yaml) is not a Kubernetes object with apiVersion, kind and metadata.name');
  });

  it('builds the API path of every supported kind', () => {
    const ref = (apiVersion: string, kind: string) => objectPath({ apiVersion, kind, namespace: 'prod', name: 'x' });
    expect(SUPPORTED_KINDS).toHaveLength(10);
    expect(ref('v1', 'ConfigMap')).toBe('/api/v1/namespaces/prod/configmaps/x');
    expect(ref('v1', 'Secret')).toBe('/api/v1/namespaces/prod/secrets/x');
    expect(ref('v1', 'Service')).toBe('/api/v1/namespaces/prod/services/x');
    expect(ref('v1', 'ServiceAccount')).toBe('/api/v1/namespaces/prod/serviceaccounts/x');
    expect(ref('apps/v1', 'Deployment')).toBe('/apis/apps/v1/namespaces/prod/deployments/x');
    expect(ref('apps/v1', 'StatefulSet')).toBe('/apis/apps/v1/namespaces/prod/statefulsets/x');
    expect(ref('apps/v1', 'DaemonSet')).toBe('/apis/apps/v1/namespaces/prod/daemonsets/x');
    expect(ref('autoscaling/v2beta2', 'HorizontalPodAutoscaler')).toBe('/apis/autoscaling/v2beta2/namespaces/prod/horizontalpodautoscalers/x');
    expect(ref('policy/v1beta1', 'PodDisruptionBudget')).toBe('/apis/policy/v1beta1/namespaces/prod/poddisruptionbudgets/x');
    expect(ref('networking.k8s.io/v1', 'Ingress')).toBe('/apis/networking.k8s.io/v1/namespaces/prod/ingresses/x');
    expect(() => ref('batch/v1', 'Job')).toThrow('no API path for unsupported kind Job (batch/v1)');
    expect(() => objectPath({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'prod', name: '../x' })).toThrow(UnsafeNameError);
  });

  it('matches objects across revisions by group, kind, namespace and name, not version', () => {
    const [a] = splitManifest(hpa('api', 1, 3), 'prod').objects;
    expect(objectKey(a!)).toBe(objectKey({ ...a!, apiVersion: 'autoscaling/v2' }));
    expect(objectKey(a!)).toBe('autoscaling/HorizontalPodAutoscaler/prod/api');
  });

  it("orders applies as Helm installs and deletions as Helm uninstalls, keeping each kind's manifest order", () => {
    const kinds = ['Ingress', 'Deployment', 'ConfigMap', 'Service', 'HorizontalPodAutoscaler', 'ServiceAccount', 'ConfigMap'].map((kind, i) => ({ kind, i }));
    expect(inInstallOrder(kinds).map((o) => `${o.kind}${o.i}`)).toEqual(['ServiceAccount5', 'ConfigMap2', 'ConfigMap6', 'Service3', 'Deployment1', 'HorizontalPodAutoscaler4', 'Ingress0']);
    expect(inUninstallOrder(kinds).map((o) => o.kind)).toEqual(['Ingress', 'Service', 'HorizontalPodAutoscaler', 'Deployment', 'ConfigMap', 'ConfigMap', 'ServiceAccount']);
  });
});
