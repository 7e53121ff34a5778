/**
 * A fault-injecting proxy in front of the real kube-apiserver: the receiver talks plain
 * HTTP to it (kubeconfig with `insecure-skip-tls-verify`, loopback only) and it forwards
 * every request over TLS to the apiserver, recording what passed. Faults are armed per
 * request, by a predicate:
 *   - `commit-then-504`: forward (the write commits), then answer 504 Gateway Timeout;
 *   - `commit-then-drop`: forward, then destroy the connection without an answer;
 *   - `before`: run something first (a concurrent writer), then forward;
 *   - `hold`: keep the request until released (then forward it, or drop it).
 * Each fault fires once.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  status: number | 'dropped';
  /** When it reached the proxy, and when the apiserver's answer came back (ms since the epoch). */
  at: number;
  answeredAt?: number;
}

type Match = (method: string, path: string) => boolean;

type Fault =
  | { kind: 'commit-then-504' | 'commit-then-drop'; match: Match }
  | { kind: 'before'; match: Match; run: () => Promise<void> }
  | { kind: 'hold'; match: Match; reached: () => void; release: Promise<'forward' | 'drop'> };

export interface Held {
  /** Resolves when a matching request arrived and is being held. */
  reached: Promise<void>;
  /** Lets it through to the apiserver. */
  forward(): void;
  /** Drops it: the client's connection is destroyed, nothing reaches the apiserver. */
  drop(): void;
}

export class FaultProxy {
  readonly seen: SeenRequest[] = [];
  private faults: Fault[] = [];
  private server: http.Server | undefined;
  private readonly target: URL;

  constructor(
    apiserver: string,
    private readonly ca: string,
  ) {
    this.target = new URL(apiserver);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** A kubeconfig for the receiver: this proxy, the token, no TLS on loopback. */
  kubeconfig(token: string): string {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'proxy', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'proxy-user', user: { token } }],
      contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'proxy-user' } }],
      'current-context': 'proxy',
    });
  }

  commitThen504(match: Match): void {
    this.faults.push({ kind: 'commit-then-504', match });
  }

  commitThenDrop(match: Match): void {
    this.faults.push({ kind: 'commit-then-drop', match });
  }

  before(match: Match, run: () => Promise<void>): void {
    this.faults.push({ kind: 'before', match, run });
  }

  hold(match: Match): Held {
    let reached!: () => void;
    let decide!: (how: 'forward' | 'drop') => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    const release = new Promise<'forward' | 'drop'>((r) => (decide = r));
    this.faults.push({ kind: 'hold', match, reached, release });
    return { reached: reachedP, forward: () => decide('forward'), drop: () => decide('drop') };
  }

  /** Requests that reached the apiserver with this method whose path (without query) ends with `suffix`. */
  writes(method: string, suffix: string): SeenRequest[] {
    return this.seen.filter((r) => r.method === method && r.path.split('?')[0]!.endsWith(suffix) && r.status !== 'dropped');
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const i = this.faults.findIndex((f) => f.match(method, path));
    return i >= 0 ? this.faults.splice(i, 1)[0] : undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const fault = this.takeFault(method, path);
    if (fault?.kind === 'before') await fault.run();
    if (fault?.kind === 'hold') {
      fault.reached();
      if ((await fault.release) === 'drop') {
        this.seen.push({ method, path, status: 'dropped', at });
        res.socket?.destroy();
        return;
      }
    }
    let upstream: { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
    try {
      upstream = await this.forward(req, body);
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: ${(err as Error).message}`);
      return;
    }
    this.seen.push({ method, path, status: upstream.status, at, answeredAt: Date.now() });
    if (fault?.kind === 'commit-then-drop') {
      res.socket?.destroy();
      return;
    }
    if (fault?.kind === 'commit-then-504') {
      const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'injected: the gateway timed out', reason: 'Timeout', code: 504 };
      res.writeHead(504, { 'content-type': 'application/json' }).end(JSON.stringify(status));
      return;
    }
    const headers = { ...upstream.headers };
    delete headers['transfer-encoding'];
    delete headers.connection;
    res.writeHead(upstream.status, headers).end(upstream.body);
  }

  private forward(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    const headers = { ...req.headers, host: this.target.host, 'content-length': String(body.length) };
    delete headers.connection;
    return new Promise((resolve, reject) => {
      const up = https.request(
        { hostname: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers, ca: this.ca },
        (r) => {
          const out: Buffer[] = [];
          r.on('data', (c: Buffer) => out.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(out) }));
          r.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(body);
    });
  }

  async stop(): Promise<void> {
    for (const f of this.faults) if (f.kind === 'hold') f.reached();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Matches a write (not GET) to a path whose part before the query ends with `suffix`. */
export function writeTo(method: string, suffix: string): Match {
  return (m, p) => m === method && p.split('?')[0]!.endsWith(suffix);
}
