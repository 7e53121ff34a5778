/**
 * Finds the GitOps objects that would undo a rollback and plans their pause, at admission:
 * for each object the strategy writes, the Argo CD Application that tracks it (confirmed by
 * its `status.resources`), with an app-of-apps parent that self-heals it, and the Flux
 * Kustomization or HelmRelease named by its labels. An object the receiver may not read or
 * patch makes a `problem`: the rollback is refused rather than performed and then undone.
 */
import type { KubeReader } from '../execution/strategies/strategy.js';
import { KubeApiError, type KubeClient } from '../kube/client.js';
import { nameSegment, namespaceSegment, paths, UnsafeNameError } from '../kube/paths.js';
import { canonicalJson } from '../kube/template-digest.js';
import type { GitOpsPause } from '../model.js';
import type { GitOpsConfig } from './config.js';
import { pauseObject } from './pause.js';
import { appListsResource, argocdClaim, fluxClaims, sourcePath, type AppRef, type ObjectMeta, type ObjectRef, type SourceRef } from './tracking.js';

export interface GitOpsFacts {
  /** What a rollback pauses first, in order. */
  pauses: GitOpsPause[];
  /** Why the rollback must be refused (the receiver may not read or pause a GitOps object). */
  problem?: string;
}

/** One object a strategy writes, with its metadata as read. */
export interface WrittenObject {
  ref: ObjectRef;
  meta: ObjectMeta;
}

/** Resource attributes of a SelfSubjectAccessReview: may the receiver do `verb` on it? */
export interface AccessQuestion {
  verb: 'patch';
  group: string;
  resource: string;
  namespace: string;
  name: string;
}

export type AccessCheck = (q: AccessQuestion) => Promise<boolean>;

/** Asks the API server (SelfSubjectAccessReview) with the receiver's own identity. */
export function accessCheck(kube: KubeClient, deadline: number): AccessCheck {
  return async (q) => {
    const review = await kube.request<{ status?: { allowed?: boolean } }>(
      {
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: q } },
      },
      { deadline },
    );
    return review.status?.allowed === true;
  };
}

const ARGOCD_GROUP = 'argoproj.io';
const APPLICATION_VERSION = 'argoproj.io/v1alpha1';
/** App of apps of apps…: parents followed at most this far up. */
const MAX_PARENT_DEPTH = 5;

class Refusal extends Error {}

interface GitOpsObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown> & { syncPolicy?: { automated?: { selfHeal?: boolean } | null }; suspend?: boolean };
  status?: { resources?: Partial<ObjectRef>[]; sync?: { revision?: string; revisions?: string[] } };
}

function appPath(app: Pick<AppRef, 'namespace' | 'name'>): string {
  return `/apis/${APPLICATION_VERSION}/namespaces/${namespaceSegment(app.namespace)}/applications/${nameSegment(app.name)}`;
}

/** Reads an object; undefined when it does not exist (or cannot, by its name). Forbidden and other refusals become a Refusal. */
async function readOptional<T>(read: KubeReader, path: () => string, what: string): Promise<T | undefined> {
  let p: string;
  try {
    p = path();
  } catch (err) {
    if (err instanceof UnsafeNameError) return undefined;
    throw err;
  }
  try {
    return await read<T>(p);
  } catch (err) {
    if (!(err instanceof KubeApiError) || err.transient) throw err;
    if (err.status === 404) return undefined;
    const why = err.status === 403 ? 'forbidden (grant the receiver access in that namespace: chart value gitops namespaces)' : err.message;
    throw new Refusal(`cannot read ${what}: ${why}`);
  }
}

class Detection {
  readonly pauses: GitOpsPause[] = [];

  constructor(
    private readonly read: KubeReader,
    private readonly allowed: AccessCheck,
    private readonly config: GitOpsConfig,
  ) {}

  private async requirePatch(q: AccessQuestion, what: string): Promise<void> {
    let allowed: boolean;
    try {
      allowed = await this.allowed(q);
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.transient) throw err;
      throw new Refusal(`cannot check whether the receiver may patch ${what}: ${err.message}`);
    }
    if (!allowed) throw new Refusal(`the receiver may not patch ${what} (forbidden): it could not pause it, and it would undo the rollback`);
  }

  private add(p: GitOpsPause): void {
    if (!this.pauses.some((known) => known.path === p.path)) this.pauses.push(p);
  }

  async argocd(object: WrittenObject): Promise<void> {
    const { namespace, trackingLabel } = this.config.argocd;
    const claim = argocdClaim(object.meta, object.ref, namespace, trackingLabel);
    if (!claim) return;
    const what = `Argo CD Application ${claim.namespace}/${claim.name}`;
    const app = await readOptional<GitOpsObject>(this.read, () => appPath(claim), what);
    // A tracking label alone is no proof (Helm sets app.kubernetes.io/instance): the Application must list the object.
    if (!app || !appListsResource(app, object.ref)) return;
    await this.application(app, `manages ${object.ref.kind} ${object.ref.namespace}/${object.ref.name} (${claim.via})`, 0);
  }

  private async application(app: GitOpsObject, why: string, depth: number): Promise<void> {
    const automated = app.spec?.syncPolicy?.automated;
    // Automated sync already off: nothing re-applies it, nothing to pause or to resume later.
    if (automated === undefined || automated === null) return;
    const { namespace, name } = app.metadata;
    const self: ObjectRef = { group: ARGOCD_GROUP, kind: 'Application', namespace, name };
    const { namespace: argocdNamespace, trackingLabel, parents } = this.config.argocd;
    const parentClaim = argocdClaim(app.metadata, self, argocdNamespace, trackingLabel);
    if (parentClaim && depth < MAX_PARENT_DEPTH) {
      const parent = await readOptional<GitOpsObject>(this.read, () => appPath(parentClaim), `Argo CD Application ${parentClaim.namespace}/${parentClaim.name} (parent of ${namespace}/${name})`);
      if (parent && appListsResource(parent, self) && parent.spec?.syncPolicy?.automated?.selfHeal === true) {
        if (parents === 'refuse') {
          throw new Refusal(
            `Argo CD Application ${namespace}/${name} is managed by Application ${parent.metadata.namespace}/${parent.metadata.name} with self-heal, which would turn its automated sync back on (gitops.argocd.parents: refuse)`,
          );
        }
        await this.application(parent, `manages Application ${namespace}/${name} with self-heal`, depth + 1);
      }
    }
    const pause: GitOpsPause = {
      tool: 'argocd',
      apiVersion: APPLICATION_VERSION,
      kind: 'Application',
      namespace,
      name,
      path: appPath({ namespace, name }),
      field: ['spec', 'syncPolicy', 'automated'],
      before: automated,
      paused: null,
      why,
      source: this.argocdSource(app),
    };
    await this.requirePatch({ verb: 'patch', group: ARGOCD_GROUP, resource: 'applications', namespace, name }, pauseObject(pause));
    this.add(pause);
  }

  /** The revision the Application's source resolves to now (`status.sync.revision`, or `revisions` with several sources). */
  private argocdSource(app: GitOpsObject): GitOpsPause['source'] {
    const sync = app.status?.sync;
    const field = sync?.revision !== undefined ? 'revision' : sync?.revisions !== undefined ? 'revisions' : undefined;
    return field ? { path: appPath(app.metadata), field: ['status', 'sync', field], revision: canonicalJson(sync![field]) } : undefined;
  }

  async flux(object: WrittenObject): Promise<void> {
    for (const claim of fluxClaims(object.meta)) {
      let found: GitOpsObject | undefined;
      let path = '';
      // The newest version the cluster serves (HelmRelease v2, else v2beta2 or v2beta1).
      for (const apiVersion of claim.apiVersions) {
        const at = () => (path = `/apis/${apiVersion}/namespaces/${namespaceSegment(claim.namespace)}/${claim.plural}/${nameSegment(claim.name)}`);
        found = await readOptional<GitOpsObject>(this.read, at, `Flux ${claim.kind} ${claim.namespace}/${claim.name}`);
        if (found) break;
      }
      // Suspended already (by someone else): nothing to pause, and not ours to resume.
      if (!found || found.spec?.suspend === true) continue;
      const pause: GitOpsPause = {
        tool: 'flux',
        apiVersion: found.apiVersion ?? claim.apiVersions[0]!,
        kind: claim.kind,
        namespace: claim.namespace,
        name: claim.name,
        path,
        field: ['spec', 'suspend'],
        before: found.spec?.suspend ?? null,
        paused: true,
        why: `manages ${object.ref.kind} ${object.ref.namespace}/${object.ref.name} (${claim.via})`,
      };
      pause.source = await this.fluxSource(found, pauseObject(pause));
      await this.requirePatch({ verb: 'patch', group: pause.apiVersion.split('/')[0]!, resource: claim.plural, namespace: claim.namespace, name: claim.name }, pauseObject(pause));
      this.add(pause);
    }
  }

  /**
   * The source's artifact revision (a suspended object's own status is frozen), read only
   * when the receiver resumes on source change.
   */
  private async fluxSource(found: GitOpsObject, what: string): Promise<GitOpsPause['source']> {
    if (this.config.resume !== 'onSourceChange') return undefined;
    const spec = found.spec as { sourceRef?: SourceRef; chartRef?: SourceRef; chart?: { spec?: { sourceRef?: SourceRef } } } | undefined;
    const ref = spec?.sourceRef ?? spec?.chartRef ?? spec?.chart?.spec?.sourceRef;
    const path = sourcePath(ref, found.metadata.namespace);
    if (!path) throw new Refusal(`${what} names no source the receiver can watch (gitops.resume: onSourceChange)`);
    const source = await readOptional<{ status?: { artifact?: { revision?: string } } }>(this.read, () => path, `the source ${ref!.kind} of ${what}`);
    if (!source) throw new Refusal(`the source ${ref!.kind} ${ref!.name} of ${what} does not exist (gitops.resume: onSourceChange)`);
    return { path, field: ['status', 'artifact', 'revision'], revision: canonicalJson(source.status?.artifact?.revision) };
  }
}

const WRITTEN_KINDS: Record<string, { group: string; path: (namespace: string, name: string) => string }> = {
  Deployment: { group: 'apps', path: paths.deployment },
  Service: { group: '', path: paths.service },
};

/** The objects behind the lock keys (`Deployment:prod/api`) with their metadata; kinds the receiver does not read are left out. */
async function readWrittenObjects(read: KubeReader, objectKeys: readonly string[]): Promise<WrittenObject[]> {
  const objects: WrittenObject[] = [];
  for (const key of objectKeys) {
    const m = /^([^:]+):([^/]+)\/(.+)$/.exec(key);
    const kind = m ? WRITTEN_KINDS[m[1]!] : undefined;
    if (!m || !kind) continue;
    const [, k, namespace, name] = m as unknown as [string, string, string, string];
    const found = await readOptional<{ metadata?: ObjectMeta }>(read, () => kind.path(namespace, name), `${k} ${namespace}/${name}`);
    if (found) objects.push({ ref: { group: kind.group, kind: k, namespace, name }, meta: found.metadata ?? {} });
  }
  return objects;
}

/**
 * The objects a rollback writes: their lock keys (`Deployment:prod/api`), read here, or the
 * objects with the metadata the strategy's inspection read already (helm: the release's Deployments).
 */
export type WrittenObjects = readonly string[] | readonly WrittenObject[];

/** The pauses a rollback needs, from the objects it writes, or why it must be refused. Transient API errors are thrown. */
export async function detectGitOps(read: KubeReader, allowed: AccessCheck, written: WrittenObjects, config: GitOpsConfig): Promise<GitOpsFacts> {
  const detection = new Detection(read, allowed, config);
  try {
    const objects = written.every((o): o is string => typeof o === 'string') ? await readWrittenObjects(read, written) : (written as readonly WrittenObject[]);
    for (const object of objects) {
      if (config.argocd.enabled) await detection.argocd(object);
      if (config.flux.enabled) await detection.flux(object);
    }
  } catch (err) {
    if (err instanceof Refusal) return { pauses: [], problem: err.message };
    throw err;
  }
  return { pauses: detection.pauses };
}
