/**
 * A release manifest (Helm's rendered templates: YAML documents separated by `---`, each
 * after a `# Source: <chart>/templates/<file>` comment) split into the objects a rollback
 * applies or deletes. Objects without a namespace get the release's, as `helm` does.
 */
import { parseAllDocuments } from 'yaml';
import { splitApiVersion, unsupported } from './kinds.js';

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** The object as rendered, with its namespace filled in. */
  body: Record<string, unknown>;
  /** The template it came from (`# Source:`), for messages. */
  source?: string;
}

export interface SplitManifest {
  objects: ManifestObject[];
  /** Why the manifest cannot be rolled back as a whole (unparseable documents, unsupported kinds). */
  problems: string[];
}

/** Identity across revisions, as Helm matches objects: group, kind, namespace, name (not the version). */
export function objectKey(o: { apiVersion: string; kind: string; namespace: string; name: string }): string {
  return `${splitApiVersion(o.apiVersion).group}/${o.kind}/${o.namespace}/${o.name}`;
}

export function describeObject(o: Pick<ManifestObject, 'kind' | 'namespace' | 'name'>): string {
  return `${o.kind} ${o.namespace}/${o.name}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The `# Source:` comment in a document's text (also of a document that does not parse). */
function sourceOf(text: string): string | undefined {
  return text.match(/^#\s*Source:\s*(\S.*?)\s*$/m)?.[1];
}

export function splitManifest(manifest: string, releaseNamespace: string): SplitManifest {
  const objects: ManifestObject[] = [];
  const problems: string[] = [];
  const unsupportedKinds = new Set<string>();
  // YAML 1.1, as Kubernetes and Helm read manifests (sigs.k8s.io/yaml).
  parseAllDocuments(manifest, { version: '1.1' }).forEach((doc, i) => {
    const source = sourceOf(manifest.slice(doc.range[0], doc.range[1]));
    const where = `manifest document ${i + 1}${source ? ` (${source})` : ''}`;
    if (doc.errors.length > 0) {
      problems.push(`${where} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
      return;
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // an empty template renders an empty document
    const metadata = isRecord(value) ? value.metadata : undefined;
    if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || !isRecord(metadata) || typeof metadata.name !== 'string') {
      problems.push(`${where} is not a Kubernetes object with apiVersion, kind and metadata.name`);
      return;
    }
    const refused = unsupported(value.kind, value.apiVersion);
    if (refused) {
      unsupportedKinds.add(refused);
      return;
    }
    const namespace = typeof metadata.namespace === 'string' && metadata.namespace ? metadata.namespace : releaseNamespace;
    objects.push({
      apiVersion: value.apiVersion,
      kind: value.kind,
      namespace,
      name: metadata.name,
      body: { ...value, metadata: { ...metadata, namespace } },
      source,
    });
  });
  if (unsupportedKinds.size > 0) problems.push(`unsupported kinds: ${[...unsupportedKinds].sort().join(', ')}`);
  return { objects, problems };
}
