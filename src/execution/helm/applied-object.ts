/**
 * A destination object as the rollback server-side applies it: with Helm's ownership
 * metadata (setMetadataVisitor: what `helm rollback` adds to every object it applies),
 * without `spec.replicas` where an HPA owns them, and with port protocols spelled out.
 */
import type { ManifestObject } from './manifest.js';

type Json = Record<string, unknown>;

/**
 * `protocol` is a key of the Service and container port lists, and servers before 1.21 reject an
 * applied port without it (kubernetes/kubernetes#98576) although it defaults to TCP: say TCP, the
 * value the server would store.
 */
function withProtocols(ports: unknown): unknown {
  return Array.isArray(ports) ? ports.map((p: Json) => (p && typeof p === 'object' && p.protocol === undefined ? { ...p, protocol: 'TCP' } : p)) : ports;
}

function withContainerProtocols(podSpec: Json | undefined): void {
  for (const list of ['containers', 'initContainers']) {
    const containers = podSpec?.[list];
    if (Array.isArray(containers)) podSpec![list] = containers.map((c: Json) => (c?.ports === undefined ? c : { ...c, ports: withProtocols(c.ports) }));
  }
}

export function appliedObject(o: ManifestObject, release: string, releaseNamespace: string, leaveReplicas: boolean): Json {
  const body = structuredClone(o.body) as { metadata: Json; spec?: Json & { template?: { spec?: Json } } };
  body.metadata.labels = { ...(body.metadata.labels as Json | undefined), 'app.kubernetes.io/managed-by': 'Helm' };
  body.metadata.annotations = {
    ...(body.metadata.annotations as Json | undefined),
    'meta.helm.sh/release-name': release,
    'meta.helm.sh/release-namespace': releaseNamespace,
  };
  if (leaveReplicas && body.spec) delete body.spec.replicas;
  if (o.kind === 'Service' && body.spec) body.spec.ports = withProtocols(body.spec.ports);
  withContainerProtocols(body.spec?.template?.spec);
  return body;
}
