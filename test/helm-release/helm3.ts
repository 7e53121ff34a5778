/**
 * Puts a release into the cluster the way Helm 3 leaves it: the release Secrets, and the
 * objects written as Helm 3's client-side path writes them (create, then strategic merge
 * patches on upgrade, deletes of dropped objects unless kept), as field manager `helm`, with
 * Helm's ownership label and annotations. (Helm 3 patches by a three-way diff; the fixtures'
 * upgrades only add and change fields, for which the new object itself is that patch.)
 */
import { parseAllDocuments } from 'yaml';
import { KubeApiError, type KubeClient } from '../../src/kube/client.js';
import { objectPath } from '../../src/execution/helm/kinds.js';
import { releaseSecretFixture, type FixtureRevision } from './fixture.js';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; resourceVersion?: string };
}

function objectsOf(manifest: string, namespace: string, release: string): Obj[] {
  return parseAllDocuments(manifest)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null)
    .map((o) => ({
      ...o,
      metadata: {
        ...o.metadata,
        namespace,
        labels: { ...o.metadata.labels, 'app.kubernetes.io/managed-by': 'Helm' },
        annotations: { ...o.metadata.annotations, 'meta.helm.sh/release-name': release, 'meta.helm.sh/release-namespace': namespace },
      },
    }));
}

const pathOf = (o: Obj) => objectPath({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.metadata.namespace!, name: o.metadata.name });

export class Helm3 {
  constructor(private readonly kube: KubeClient) {}

  /** Writes every revision's Secret; installs `applied[0]` and upgrades through the rest of `applied` (default: all). */
  async install(namespace: string, release: string, revisions: FixtureRevision[], applied = revisions.map((r) => r.version)): Promise<void> {
    for (const rev of revisions) {
      await this.kube.send({ method: 'POST', path: `/api/v1/namespaces/${namespace}/secrets`, body: releaseSecretFixture(release, namespace, rev) });
    }
    let previous: Obj[] = [];
    for (const version of applied) {
      const rev = revisions.find((r) => r.version === version)!;
      const next = objectsOf(rev.manifest, namespace, release);
      for (const o of next) await this.write(o);
      const key = (o: Obj) => `${o.kind}/${o.metadata.name}`;
      for (const gone of previous.filter((p) => !next.some((n) => key(n) === key(p)))) {
        if (gone.metadata.annotations?.['helm.sh/resource-policy'] !== 'keep') await this.kube.send({ method: 'DELETE', path: pathOf(gone) });
      }
      previous = next;
    }
  }

  private async write(o: Obj): Promise<void> {
    const path = pathOf(o);
    try {
      await this.kube.send({ method: 'PATCH', path: `${path}?fieldManager=helm`, patchType: 'strategic', body: o });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
      await this.kube.send({ method: 'POST', path: `${path.slice(0, path.lastIndexOf('/'))}?fieldManager=helm`, body: o });
    }
  }
}
