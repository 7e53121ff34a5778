/**
 * The real `rollback-receiver serve` process for tests and the demo: its own process (a
 * Daemon: own process group, log file, readiness on /health/ready), so it can be killed
 * with SIGKILL or stopped with SIGTERM like a pod. Its temp dir holds the config, the
 * kubeconfig and the state dir, which survive kill()/restart().
 */
import { Daemon, freePort } from './daemon.js';
import { ROOT } from './process.js';

/** This process's environment without anything that would configure the receiver, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(ROLLBACK_|PROMETHEUS_URL$|KUBECONFIG$|PORT$|NODE_OPTIONS$)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export interface ReceiverProcessOptions {
  /** Short label for messages and the temp dir. */
  label: string;
  /** Extra environment (tokens, ROLLBACK_DRY_RUN, LOG_LEVEL). KUBECONFIG and ROLLBACK_STATE_DIR point into the temp dir. */
  env: Record<string, string>;
  port?: number;
}

/** A receiver daemon, not started: write `config.yaml` and `kubeconfig` into its temp dir first (d.file(...)). */
export async function receiverProcess(opts: ReceiverProcessOptions): Promise<Daemon> {
  return new Daemon(opts.port ?? (await freePort()), {
    name: 'rollback-receiver',
    label: `${opts.label} receiver`,
    binary: process.execPath,
    args: (d) => ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', d.file('config.yaml'), '--port', String(d.port)],
    tmpPrefix: `rollback-receiver-${opts.label}-`,
    readyPath: '/health/ready',
    startTimeoutMs: 60_000,
    cwd: ROOT,
    env: (d) => childEnv({ KUBECONFIG: d.file('kubeconfig'), ROLLBACK_STATE_DIR: d.file('state'), ...opts.env }),
  });
}
