/**
 * A release's revisions, read as `helm history` reads them: the release Secrets labelled
 * `owner=helm,name=<release>` in the release's namespace, decoded and sorted by revision.
 */
import { labelSelector, namespaceSegment } from '../../kube/paths.js';
import { nameProblem } from '../../matching/names.js';
import type { KubeReader } from '../strategies/strategy.js';
import { releaseFromSecretData } from './codec.js';
import { statusOf, type StoredRevision } from './release.js';

export interface ReleaseHistory {
  release: string;
  namespace: string;
  /** Oldest first. */
  revisions: StoredRevision[];
  /** Release Secrets that could not be decoded (Helm skips them too), with why. */
  undecodable: string[];
}

/** One row of `helm history`. */
export interface HistoryRow {
  revision: number;
  updated?: string;
  status: string;
  chart: string;
  appVersion: string;
  description: string;
}

interface SecretList {
  items: { metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string> }; data?: Record<string, string> }[];
}

/** Helm's ValidateReleaseName: a DNS subdomain of at most 53 characters. */
export function releaseNameProblem(name: string): string | undefined {
  if (name.length > 53) return `release name "${name.slice(0, 60)}…" is longer than 53 characters`;
  const problem = nameProblem(name);
  return problem && `release ${problem}`;
}

export function releaseSecretsPath(namespace: string, release: string): string {
  const problem = releaseNameProblem(release);
  if (problem) throw new Error(problem);
  return `/api/v1/namespaces/${namespaceSegment(namespace)}/secrets?labelSelector=${encodeURIComponent(labelSelector({ matchLabels: { owner: 'helm', name: release } }))}`;
}

export async function readHistory(read: KubeReader, namespace: string, release: string): Promise<ReleaseHistory> {
  const list = await read<SecretList>(releaseSecretsPath(namespace, release));
  const revisions: StoredRevision[] = [];
  const undecodable: string[] = [];
  for (const item of list.items) {
    const secretName = item.metadata?.name ?? '(unnamed)';
    try {
      revisions.push({
        release: releaseFromSecretData(item.data?.release ?? ''),
        secretName,
        resourceVersion: item.metadata?.resourceVersion ?? '',
        labels: item.metadata?.labels ?? {},
      });
    } catch (err) {
      undecodable.push(`Secret ${namespace}/${secretName}: ${(err as Error).message}`);
    }
  }
  revisions.sort((a, b) => a.release.version - b.release.version);
  return { release, namespace, revisions, undecodable };
}

/** What `helm history <release>` lists, oldest first. */
export function historyRows(history: ReleaseHistory): HistoryRow[] {
  return history.revisions.map((rev) => {
    const metadata = rev.release.chart?.metadata;
    return {
      revision: rev.release.version,
      updated: rev.release.info?.last_deployed,
      status: statusOf(rev),
      chart: metadata ? `${metadata.name ?? ''}-${metadata.version ?? ''}` : 'MISSING',
      appVersion: metadata ? (metadata.appVersion ?? '') : 'MISSING',
      description: rev.release.info?.description ?? '',
    };
  });
}
