/**
 * The one way the receiver talks to Kubernetes: raw API requests authenticated by
 * @kubernetes/client-node's KubeConfig, so a strategy's plan (method, path, body) is
 * exactly what is sent. Reads that fail transiently are retried with backoff within a
 * deadline; writes are sent once, because a write that timed out may have committed —
 * the executor reads the object again and compares it with the pinned plan instead.
 * Errors keep the API's status and message for reasons and reports.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import fetch, { Headers } from 'node-fetch';
import pRetry, { AbortError } from 'p-retry';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';
const CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  // Server-side apply; the body is sent as JSON, which is YAML. The path carries ?fieldManager=…
  apply: 'application/apply-patch+yaml',
};

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  patchType?: PatchType;
}

export class KubeApiError extends Error {
  constructor(
    readonly request: ApiRequest,
    /** HTTP status, or 0 when the API server could not be reached. */
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(`${request.method} ${request.path.split('?')[0]}: ${status ? `${status} ${reason}: ` : ''}${message}`);
  }

  /** Worth trying again: unreachable, overloaded, or a server-side timeout. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }

  /** A write that may or may not have taken effect: no answer, a dropped connection, a gateway or server error. */
  get ambiguous(): boolean {
    return this.status === 0 || this.status >= 500;
  }

  get conflict(): boolean {
    return this.status === 409;
  }
}

export interface RetryPolicy {
  /** Give up retrying once this instant (ms since epoch) passes. */
  deadline: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  onRetry?: (err: KubeApiError, attempt: number) => void;
}

export class KubeClient {
  readonly server: string;

  constructor(readonly config: KubeConfig) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
  }

  /**
   * KUBECONFIG (or ~/.kube/config), else the in-cluster service account. client-node is
   * loaded here, on first use (about 80 MiB resident): a receiver without a cluster never pays it.
   */
  static async fromEnvironment(): Promise<KubeClient> {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubeClient(kc);
  }

  /** One request, no retries. */
  async send<T = unknown>(req: ApiRequest, timeoutMs = 15_000): Promise<T> {
    const init = await this.config.applyToFetchOptions({});
    // The auth headers come as a node-fetch Headers object, not a plain record.
    const headers = new Headers(init.headers as never);
    headers.set('Accept', 'application/json');
    if (req.body !== undefined) headers.set('Content-Type', req.patchType ? CONTENT_TYPES[req.patchType] : 'application/json');
    let res;
    try {
      res = await fetch(this.server + req.path, {
        ...init,
        method: req.method,
        headers,
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: AbortSignal.timeout(timeoutMs) as never,
      });
    } catch (err) {
      throw new KubeApiError(req, 0, 'Unreachable', (err as Error).message);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    if (!res.ok) {
      const status = body as { reason?: string; message?: string } | undefined;
      throw new KubeApiError(req, res.status, status?.reason ?? res.statusText, status?.message ?? String(text).slice(0, 300));
    }
    return body as T;
  }

  /**
   * A GET retried with exponential backoff while it fails transiently and the deadline
   * allows. Any other method is sent once: retrying a write blindly could apply it twice
   * or over someone else's change.
   */
  async request<T = unknown>(req: ApiRequest, policy: RetryPolicy): Promise<T> {
    if (req.method !== 'GET') return this.send<T>(req, Math.max(1000, Math.min(15_000, policy.deadline - Date.now())));
    return pRetry(
      async () => {
        try {
          return await this.send<T>(req, Math.max(1000, Math.min(15_000, policy.deadline - Date.now())));
        } catch (err) {
          if (err instanceof KubeApiError && !err.transient) throw new AbortError(err);
          throw err;
        }
      },
      {
        retries: 1000,
        minTimeout: policy.minTimeoutMs ?? 250,
        maxTimeout: policy.maxTimeoutMs ?? 5000,
        maxRetryTime: Math.max(0, policy.deadline - Date.now()),
        onFailedAttempt: ({ error, attemptNumber }) => policy.onRetry?.(error as KubeApiError, attemptNumber),
      },
    );
  }
}
