/**
 * Manual helper: start an envtest cluster and keep it running until Ctrl-C.
 *
 *   npx tsx scripts/envtest/run-cluster.ts [kubeconfig-path]
 *
 * Writes an admin kubeconfig (default $TMPDIR/envtest.kubeconfig) and prints the tokens.
 */
import os from 'node:os';
import path from 'node:path';
import { startCluster } from '../../test/envtest/cluster.js';

const kubeconfig = path.resolve(process.argv[2] ?? path.join(os.tmpdir(), 'envtest.kubeconfig'));
const cluster = await startCluster({ log: (m) => process.stderr.write(`[envtest] ${m}\n`) });
cluster.writeKubeconfig(kubeconfig);
process.stdout.write(
  `${JSON.stringify(
    {
      server: cluster.server,
      kubeconfig,
      adminToken: cluster.adminToken,
      restrictedUser: cluster.restrictedUser,
      restrictedToken: cluster.restrictedToken,
      logs: cluster.tmpDir,
      startMs: cluster.startMs,
    },
    null,
    2,
  )}\nCtrl-C to stop.\n`,
);
const keepAlive = setInterval(() => undefined, 1 << 30);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    clearInterval(keepAlive);
    void cluster.stop().then(() => process.exit(0));
  });
}
