/**
 * What the cluster holds of a rollback's objects, read at admission: whether each exists,
 * its uid, its `helm.sh/resource-policy` annotation and its field ownership; and the
 * HorizontalPodAutoscalers of the release's namespaces, so applies leave replicas to them.
 */
import { hpaApiVersion, readHpas, type Hpa } from '../capacity.js';
import { readIfExists, type KubeReader } from '../strategies/strategy.js';
import { currentRevision } from './destination.js';
import type { LiveMetadata } from './field-ownership.js';
import { objectPath } from './kinds.js';
import type { ReleaseHistory } from './history.js';
import { objectKey, splitManifest, type ManifestObject } from './manifest.js';

/** By {@link objectKey}; an object missing from the map does not exist in the cluster. */
export type LiveObjects = ReadonlyMap<string, LiveMetadata>;

export interface ClusterState {
  live: LiveObjects;
  hpas: Hpa[];
}

/** Reads the objects (supported kinds only) and the HPAs of their namespaces. */
export async function readClusterState(read: KubeReader, objects: readonly ManifestObject[]): Promise<ClusterState> {
  const live = new Map<string, LiveMetadata>();
  const unique = new Map(objects.map((o) => [objectKey(o), o]));
  await Promise.all(
    [...unique.values()].map(async (o) => {
      const found = await readIfExists<{ metadata?: LiveMetadata }>(read, objectPath(o));
      if (found?.metadata) live.set(objectKey(o), found.metadata);
    }),
  );
  const namespaces = [...new Set(objects.map((o) => o.namespace))].sort();
  const version = namespaces.length > 0 ? await hpaApiVersion(read) : undefined;
  const hpas = version ? (await Promise.all(namespaces.map((ns) => readHpas(read, ns, version)))).flat() : [];
  return { live, hpas };
}

/** The cluster state a rollback of the release to `destination` is planned on: the current and destination revisions' objects. */
export async function readRollbackState(read: KubeReader, history: ReleaseHistory, destination: number): Promise<ClusterState> {
  const revisions = [currentRevision(history), history.revisions.find((r) => r.release.version === destination)];
  const objects = revisions.flatMap((r) => (r ? splitManifest(r.release.manifest ?? '', r.release.namespace ?? history.namespace).objects : []));
  return readClusterState(read, objects);
}
