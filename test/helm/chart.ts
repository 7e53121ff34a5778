/**
 * Renders helm/rollback-receiver with the test-only Helm renderer (renderer/main.go:
 * Helm's template engine, values coalescing and values.schema.json validation, built
 * from Debian's Go packages; no helm binary is installable here).
 *
 * The renderer is built once per source hash into the OS temp dir and reused by every
 * test file and run: `<tmp>/rollback-receiver-helm-renderer/renderer-<sha256>`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHART_DIR = path.join(ROOT, 'helm/rollback-receiver');
const RENDERER_SRC = path.join(ROOT, 'test/helm/renderer/main.go');
const CACHE_DIR = path.join(os.tmpdir(), 'rollback-receiver-helm-renderer');
/** Debian's Go packages live here (GOPATH mode). */
const GOPATH = '/usr/share/gocode';
export const RENDERER_APT_PACKAGES =
  'golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev golang-github-xeipuuv-gojsonschema-dev';

/** The API versions kube-apiserver v1.30 serves for what the chart uses (what `helm template` assumes without a cluster). */
export const MODERN_API_VERSIONS = [
  'v1',
  'apps/v1',
  'rbac.authorization.k8s.io/v1',
  'policy/v1',
  'policy/v1/PodDisruptionBudget',
  'monitoring.coreos.com/v1',
  'monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
];

let built: string | undefined;

/** Path of the renderer binary, building it when its source changed. */
export function rendererBinary(): string {
  if (built) return built;
  const hash = createHash('sha256').update(fs.readFileSync(RENDERER_SRC)).digest('hex').slice(0, 20);
  const bin = path.join(CACHE_DIR, `renderer-${hash}`);
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    const r = spawnSync('go', ['build', '-o', tmp, RENDERER_SRC], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GOPATH,
        GO111MODULE: 'off',
        GOFLAGS: '',
        GOCACHE: process.env.GOCACHE || path.join(CACHE_DIR, 'gocache'),
      },
    });
    if (r.error || r.status !== 0) {
      throw new Error(
        `building the test Helm renderer failed (it needs the Debian packages ${RENDERER_APT_PACKAGES}):\n` +
          `${r.error?.message ?? ''}${r.stderr ?? ''}`,
      );
    }
    // Atomic: parallel jest workers may build at once; each renames its own complete binary.
    fs.renameSync(tmp, bin);
  }
  built = bin;
  return bin;
}

/**
 * The values the chart cannot default (it fails without them): the webhook token and
 * where the receiver may act. Every render starts from these unless told otherwise.
 */
export const REQUIRED_VALUES = {
  auth: { webhookToken: 'webhook-token-for-tests' },
  rbac: { namespaces: ['apps'] },
};

export interface RenderOptions {
  /** The first values file; default {@link REQUIRED_VALUES}, `{}` to render without them. */
  required?: Record<string, unknown>;
  /** Override values (each written to a file and passed as -f, in order, like `helm template -f`). */
  values?: Record<string, unknown> | Record<string, unknown>[];
  /** Values files passed as they are (after `required`, before `values`). */
  valueFiles?: string[];
  release?: string;
  namespace?: string;
  kubeVersion?: string;
  /** .Capabilities.APIVersions; default {@link MODERN_API_VERSIONS}. */
  apiVersions?: string[];
  /** Extra template files rendered with the chart's (to exercise helpers). */
  extraTemplates?: string[];
  /** Render NOTES.txt instead of the manifests. */
  notes?: boolean;
}

export interface RenderResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface Manifest {
  /** The template it came from, e.g. rollback-receiver/templates/deployment.yaml */
  source: string;
  object: KubeObject;
}

/** Runs the renderer; never throws on a render error (see status/stderr). */
export function renderRaw(opts: RenderOptions = {}): RenderResult {
  const args = ['--chart', CHART_DIR, '--name', opts.release ?? 'rollback-receiver', '--namespace', opts.namespace ?? 'monitoring'];
  args.push('--kube-version', opts.kubeVersion ?? 'v1.30.0');
  args.push('--api-versions', (opts.apiVersions ?? MODERN_API_VERSIONS).join(','));
  // -f files in this order: the required values, the given files, then the overrides.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-values-'));
  const write = (v: Record<string, unknown>, i: number) => {
    const file = path.join(dir, `values-${i}.yaml`);
    fs.writeFileSync(file, JSON.stringify(v)); // JSON is YAML
    return file;
  };
  const overrides = opts.values === undefined ? [] : Array.isArray(opts.values) ? opts.values : [opts.values];
  for (const f of [write(opts.required ?? REQUIRED_VALUES, 0), ...(opts.valueFiles ?? []), ...overrides.map((v, i) => write(v, i + 1))]) args.push('-f', f);
  for (const t of opts.extraTemplates ?? []) args.push('--extra-template', t);
  if (opts.notes) args.push('--notes');
  try {
    const r = spawnSync(rendererBinary(), args, { encoding: 'utf8' });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Splits `helm template` output into manifests. YAML 1.1, as Kubernetes' decoder reads it. */
export function parseManifests(stream: string): Manifest[] {
  const out: Manifest[] = [];
  for (const chunk of stream.split(/^---\n/m)) {
    if (chunk.trim() === '') continue;
    const source = /^# Source: (.+)$/m.exec(chunk)?.[1];
    if (!source) throw new Error(`manifest without a "# Source:" line:\n${chunk.slice(0, 200)}`);
    const docs = parseAllDocuments(chunk, { version: '1.1' });
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object = doc.toJS() as KubeObject | null;
      if (object) out.push({ source, object });
    }
  }
  return out;
}

/** Renders the manifests; throws with the renderer's message on failure. */
export function render(opts: RenderOptions = {}): Manifest[] {
  const r = renderRaw(opts);
  if (r.status !== 0) throw new Error(`render failed (exit ${r.status}):\n${r.stderr}`);
  return parseManifests(r.stdout);
}

/** Renders NOTES.txt. */
export function renderNotes(opts: RenderOptions = {}): string {
  const r = renderRaw({ ...opts, notes: true });
  if (r.status !== 0) throw new Error(`render of NOTES.txt failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** The one object of this kind (and name, if given); throws when there is not exactly one. */
export function only<T = KubeObject>(manifests: Manifest[], kind: string, name?: string): T {
  const found = manifests.filter((m) => m.object.kind === kind && (name === undefined || m.object.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!.object as T;
}

export function ofKind(manifests: Manifest[], kind: string): KubeObject[] {
  return manifests.filter((m) => m.object.kind === kind).map((m) => m.object);
}
