/**
 * The servers under load, each its own process: the two baselines, and the compiled
 * receiver (`node dist/cli/main.js serve`, the process `npm start` runs) with its durable
 * store on disk — not on tmpfs, so every commit pays its real fsync.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Daemon, freePort } from '../test/support/daemon.js';
import { ROOT } from '../test/support/process.js';
import { childEnv } from '../test/support/receiver-process.js';

export const WEBHOOK_TOKEN = 'bench-webhook-token';
export const OPERATOR_TOKEN = 'bench-operator-token';

export type Baseline = 'bare' | 'express';

export async function startBaseline(kind: Baseline): Promise<Daemon> {
  const d = new Daemon(await freePort(), {
    name: `baseline-${kind}`,
    label: `${kind} baseline`,
    binary: process.execPath,
    args: (s) => ['--import', 'tsx', 'bench/baseline-server.ts', kind, String(s.port)],
    tmpPrefix: `bench-${kind}-`,
    readyPath: '/ready',
    cwd: ROOT,
  });
  await d.start();
  return d;
}

export interface ReceiverOptions {
  /** config.yaml contents. */
  config: string;
  /** A kubeconfig file's contents; absent: no cluster (dry-run decides on its own state). */
  kubeconfig?: string;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

/** The compiled receiver, started and ready. */
export async function startReceiver(opts: ReceiverOptions): Promise<Daemon> {
  const d = new Daemon(await freePort(), {
    name: 'rollback-receiver',
    label: 'bench receiver',
    binary: process.execPath,
    args: (s) => [...(opts.nodeArgs ?? []), 'dist/cli/main.js', 'serve', '--config', s.file('config.yaml'), '--port', String(s.port)],
    tmpPrefix: 'bench-receiver-',
    tmpBase: os.tmpdir(),
    readyPath: '/health/ready',
    startTimeoutMs: 60_000,
    cwd: ROOT,
    env: (s) =>
      childEnv({
        KUBECONFIG: s.file('kubeconfig'),
        ROLLBACK_STATE_DIR: s.file('state'),
        ROLLBACK_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
        ROLLBACK_OPERATOR_TOKEN: OPERATOR_TOKEN,
        LOG_LEVEL: 'warn',
        ...opts.env,
      }),
  });
  fs.writeFileSync(d.file('config.yaml'), opts.config);
  if (opts.kubeconfig) fs.writeFileSync(d.file('kubeconfig'), opts.kubeconfig);
  await d.start();
  return d;
}

/** Resident set size of a process, MiB (from /proc: what the kernel charges it). */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb / 1024;
}

/** The receiver's V8 heap in use, MiB, from its own /metrics (prom-client's default metrics). */
export async function heapMiB(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).text();
  const m = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  return m ? Number(m[1]) / 2 ** 20 : NaN;
}

export const machine = () => ({ cores: os.cpus().length, memoryGiB: os.totalmem() / 2 ** 30, node: process.version, load: os.loadavg() });
