/** jest globalTeardown: stops the cluster started by global-setup.ts. */
import type { GlobalEnvtest } from './global-setup.js';

// Same as GLOBAL_KEY in global-setup.ts (not imported: jest loads this file without moduleNameMapper).
const GLOBAL_KEY = '__ROLLBACK_RECEIVER_ENVTEST__';

export default async function globalTeardown(): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const env = g[GLOBAL_KEY] as GlobalEnvtest | undefined;
  if (!env) return;
  delete g[GLOBAL_KEY];
  env.control.closeAllConnections();
  await new Promise<void>((resolve) => env.control.close(() => resolve()));
  await env.cluster.stop();
  delete process.env.ENVTEST_CLUSTER_FILE;
}
