/**
 * Helm 3 release storage written the way Helm 3 writes it, independently of the module
 * under test: release JSON with Helm's field names (Helm 3 marshals a zero time as ""),
 * gzipped with node's zlib and base64-encoded here, in Secrets labelled as Helm labels them.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { releaseFromSecretData } from '../../src/execution/helm/codec.js';
import type { ReleaseHistory } from '../../src/execution/helm/history.js';

export interface FixtureRevision {
  version: number;
  status: string;
  description: string;
  manifest: string;
  appVersion: string;
  hooks?: unknown[];
  /** Releases stored before Helm compressed them. */
  plain?: boolean;
}

/** The release JSON as Helm 3 marshals it (field order of its structs). */
export function releaseJson(release: string, namespace: string, rev: FixtureRevision): string {
  const deployed = `2024-05-0${rev.version}T10:00:00.123456789+02:00`;
  return JSON.stringify({
    name: release,
    info: {
      first_deployed: '2024-05-01T10:00:00.123456789+02:00',
      last_deployed: deployed,
      deleted: '',
      description: rev.description,
      status: rev.status,
      notes: `Visit ${release} (revision ${rev.version}).`,
    },
    chart: {
      metadata: { name: release, version: `0.${rev.version}.0`, description: 'A shop', apiVersion: 'v2', appVersion: rev.appVersion, type: 'application' },
      lock: null,
      templates: [{ name: 'templates/app.yaml', data: Buffer.from('{{ .Values.image }}').toString('base64') }],
      values: { image: 'app:v1', dbPassword: 'chart-default' },
      schema: null,
      files: [],
    },
    config: { dbPassword: 's3cret-value' },
    manifest: rev.manifest,
    hooks: rev.hooks ?? [],
    version: rev.version,
    namespace,
  });
}

/** The Secret as Helm's driver creates it; `data.release` is base64 of Helm's base64 string. */
export function releaseSecretFixture(release: string, namespace: string, rev: FixtureRevision): Record<string, unknown> {
  const json = Buffer.from(releaseJson(release, namespace, rev));
  const helmEncoded = (rev.plain ? json : gzipSync(json)).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `sh.helm.release.v1.${release}.v${rev.version}`,
      labels: { createdAt: String(1714550400 + rev.version * 86400), name: release, owner: 'helm', status: rev.status, version: String(rev.version) },
    },
    type: 'helm.sh/release.v1',
    data: { release: Buffer.from(helmEncoded).toString('base64') },
  };
}

/** Decodes a release Secret's data the way Helm does, without the module under test. */
export function decodeSecretData(value: string): { gzipped: boolean; release: Record<string, unknown> } {
  const helmEncoded = Buffer.from(value, 'base64').toString('latin1');
  const bytes = Buffer.from(helmEncoded, 'base64');
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 0x08;
  const json = gzipped ? gunzipSync(bytes) : bytes;
  return { gzipped, release: JSON.parse(json.toString('utf8')) as Record<string, unknown> };
}

// ------------------------------------------------------------ rendered manifests

/** One rendered template, as Helm writes it into the release manifest. */
export function doc(template: string, yaml: string): string {
  return `---\n# Source: shop/templates/${template}\n${yaml.trim()}\n`;
}

export function configMap(name: string, data: Record<string, string>, annotations: Record<string, string> = {}): string {
  const ann = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  return doc(
    `${name}.yaml`,
    [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      `  name: ${name}`,
      ...(ann.length ? ['  annotations:', ...ann] : []),
      'data:',
      ...Object.entries(data).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    ].join('\n'),
  );
}

export function deployment(name: string, image: string, env: Record<string, string>, replicas: number | string = 2, annotations: Record<string, string> = {}): string {
  const ann = Object.entries(annotations).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  return doc(
    'deployment.yaml',
    `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    app: ${name}
${ann.length ? ['  annotations:', ...ann].join('\n') : ''}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
        - name: app
          image: ${image}
          env:
${Object.entries(env)
  .map(([k, v]) => `            - name: ${k}\n              value: ${JSON.stringify(v)}`)
  .join('\n')}
`,
  );
}

export function service(name: string): string {
  return doc(
    'service.yaml',
    `
apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector:
    app: ${name}
  ports:
    - port: 80
      targetPort: 8080
`,
  );
}

export function hpa(name: string, minReplicas: number, maxReplicas: number): string {
  return doc(
    'hpa.yaml',
    `
apiVersion: autoscaling/v2beta2
kind: HorizontalPodAutoscaler
metadata:
  name: ${name}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: ${name}
  minReplicas: ${minReplicas}
  maxReplicas: ${maxReplicas}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: 80
`,
  );
}

export function cronJob(name: string): string {
  return doc(
    'cronjob.yaml',
    `
apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: ${name}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: job
              image: job:v1
`,
  );
}

/** A history as readHistory returns it, from fixture revisions (no cluster: for the pure parts). */
export function historyOf(release: string, namespace: string, revisions: FixtureRevision[]): ReleaseHistory {
  return {
    release,
    namespace,
    undecodable: [],
    revisions: revisions.map((rev) => {
      const secret = releaseSecretFixture(release, namespace, rev) as { metadata: { name: string; labels: Record<string, string> }; data: { release: string } };
      return { release: releaseFromSecretData(secret.data.release), secretName: secret.metadata.name, resourceVersion: `rv-${rev.version}`, labels: secret.metadata.labels };
    }),
  };
}

// ------------------------------------------------------------ a release for receiver tests

/** The chart's Deployment, opted in to automatic rollbacks. */
export function optedInDeployment(name: string, image: string): string {
  return deployment(name, image, { A: '1' }, 2, { 'rollback-receiver.io/enabled': 'true' });
}

/** A release for receiver tests: 1 and 2 good, 3 (deployed) broken; revision 2 adds a ConfigMap, 3 another one. */
export function shopRelease(name = 'shop'): FixtureRevision[] {
  return [
    { version: 1, status: 'superseded', description: 'Install complete', appVersion: '1', manifest: configMap(`${name}-config`, { v: '1' }) + service(name) + optedInDeployment(name, 'app:v1') },
    {
      version: 2,
      status: 'superseded',
      description: 'Upgrade complete',
      appVersion: '2',
      manifest: configMap(`${name}-config`, { v: '2' }) + configMap(`${name}-extra`, { on: 'yes' }) + service(name) + optedInDeployment(name, 'app:v2'),
    },
    {
      version: 3,
      status: 'deployed',
      description: 'Upgrade complete',
      appVersion: '3',
      manifest: configMap(`${name}-config`, { v: '3' }) + configMap(`${name}-extra`, { on: 'yes' }) + configMap(`${name}-tmp`, { x: '1' }) + service(name) + optedInDeployment(name, 'app:broken'),
    },
  ];
}
