/**
 * jest globalSetup: starts ONE envtest cluster for the whole jest run.
 *
 * Writes the connection info to a JSON file whose path is put in
 * process.env.ENVTEST_CLUSTER_FILE (inherited by the test workers; read it with
 * connect.ts). The kubelet stand-in and a loopback HTTP control endpoint
 * (POST /apiserver/stop, POST /apiserver/start) keep running in this process
 * until global-teardown.ts.
 *
 * jest loads globalSetup files with Node's own resolver (no moduleNameMapper), so
 * a relative `./cluster.js` import of a .ts file would not resolve: this file only
 * has type imports of project files, and loads cluster.ts through tsx's tsImport.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import type { Cluster, ClusterInfo } from './cluster.js';

type ClusterModule = typeof import('./cluster.js');

export interface ClusterFile extends ClusterInfo {
  /** Base URL of the control endpoint, e.g. http://127.0.0.1:1234 */
  controlUrl: string;
}

export interface GlobalEnvtest {
  cluster: Cluster;
  control: http.Server;
}

export const GLOBAL_KEY = '__ROLLBACK_RECEIVER_ENVTEST__';

function startControlServer(cluster: Cluster): Promise<http.Server> {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn, fn);
    queue = p.catch(() => undefined);
    return p;
  };
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const route = `${req.method ?? ''} ${req.url ?? ''}`;
    const actions: Record<string, () => Promise<void>> = {
      'POST /apiserver/stop': () => cluster.stopApiServer(),
      'POST /apiserver/start': () => cluster.startApiServer(),
    };
    req.resume();
    if (route === 'GET /status') {
      reply(200, { apiServerRunning: cluster.apiServerRunning() });
      return;
    }
    const action = actions[route];
    if (!action) {
      reply(404, { error: `unknown route ${route}` });
      return;
    }
    serial(action).then(
      () => reply(200, { ok: true, apiServerRunning: cluster.apiServerRunning() }),
      (e: unknown) => reply(500, { error: e instanceof Error ? e.message : String(e) }),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      resolve(server);
    });
  });
}

interface JestConfigLike {
  rootDir?: string;
}

export default async function globalSetup(globalConfig?: JestConfigLike, projectConfig?: JestConfigLike): Promise<void> {
  const t0 = Date.now();
  const rootDir = projectConfig?.rootDir ?? globalConfig?.rootDir ?? process.cwd();
  const clusterTs = path.join(rootDir, 'test/envtest/cluster.ts');
  const { startCluster } = (await tsImport(clusterTs, pathToFileURL(clusterTs).href)) as ClusterModule;
  // Fails (rejects) loudly if the assets cannot be found or built, or the cluster cannot start.
  const cluster = await startCluster({ assetsScript: path.join(rootDir, 'scripts/envtest/assets.sh') });
  let control: http.Server;
  try {
    control = await startControlServer(cluster);
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  const addr = control.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const info: ClusterFile = { ...cluster.info(), controlUrl: `http://127.0.0.1:${port}` };
  const file = path.join(cluster.tmpDir, 'cluster.json');
  fs.writeFileSync(file, JSON.stringify(info, null, 2), { mode: 0o600 });
  process.env.ENVTEST_CLUSTER_FILE = file;
  (globalThis as Record<string, unknown>)[GLOBAL_KEY] = { cluster, control } satisfies GlobalEnvtest;
  process.stderr.write(
    `\n[envtest] cluster up at ${cluster.server} (control plane start ${cluster.startMs} ms, ` +
      `setup total ${Date.now() - t0} ms)\n`,
  );
}
