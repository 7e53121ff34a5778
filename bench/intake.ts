/**
 * Intake: webhooks/s, p50 and p99 for each payload size and concurrency, against the two
 * baselines and the receiver, one after the other with the same generator and payloads.
 */
import { spawn } from 'node:child_process';
import { ROOT } from '../test/support/process.js';
import type { LoadResult, LoadSpec } from './load.js';
import { startBaseline, startReceiver, WEBHOOK_TOKEN, type Baseline } from './servers.js';

export type ServerKind = Baseline | 'receiver';

export interface IntakeCell extends LoadResult {
  server: ServerKind;
  alertsPerWebhook: number;
  connections: number;
  rate?: number;
}

export interface IntakeOptions {
  servers: ServerKind[];
  durationSec: number;
  alertSizes: number[];
  concurrencies: number[];
  /** Also run the receiver at this fixed rate (1 alert per webhook, 10 connections). */
  fixedRate?: number;
  /** Node flags for the receiver, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR']. */
  receiverNodeArgs?: string[];
  progress: (line: string) => void;
}

/** Runs the load generator in its own process and reads its one-line JSON result. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/load.ts', JSON.stringify(spec)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`load generator exited ${code}: ${err.trim()}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadResult);
    });
  });
}

const RECEIVER_CONFIG = 'monitoring:\n  enhanced:\n    enabled: false\n';

async function start(kind: ServerKind, opts: IntakeOptions) {
  if (kind !== 'receiver') return startBaseline(kind);
  return startReceiver({ config: RECEIVER_CONFIG, env: { ROLLBACK_DRY_RUN: 'true' }, nodeArgs: opts.receiverNodeArgs });
}

export async function benchIntake(opts: IntakeOptions): Promise<IntakeCell[]> {
  const cells: IntakeCell[] = [];
  let salt = 0;
  for (const server of opts.servers) {
    const daemon = await start(server, opts);
    try {
      const base = { url: daemon.url, token: server === 'receiver' ? WEBHOOK_TOKEN : undefined };
      // Warm-up: JIT, connection pools, the store's first pages.
      await runLoad({ ...base, connections: 10, durationSec: 1, alertsPerWebhook: 1, salt: `w${salt++}` });
      for (const alertsPerWebhook of opts.alertSizes) {
        for (const connections of opts.concurrencies) {
          const r = await runLoad({ ...base, connections, durationSec: opts.durationSec, alertsPerWebhook, salt: `s${salt++}` });
          cells.push({ server, alertsPerWebhook, connections, ...r });
          opts.progress(`${server} ${alertsPerWebhook} alert(s) c${connections}: ${Math.round(r.perSecond)}/s p50 ${r.p50} ms p99 ${r.p99} ms`);
        }
      }
      if (server === 'receiver' && opts.fixedRate) {
        const r = await runLoad({ ...base, connections: 10, durationSec: opts.durationSec, alertsPerWebhook: 1, rate: opts.fixedRate, salt: `r${salt++}` });
        cells.push({ server, alertsPerWebhook: 1, connections: 10, rate: opts.fixedRate, ...r });
        opts.progress(`${server} at ${opts.fixedRate}/s: p50 ${r.p50} ms p99 ${r.p99} ms`);
      }
    } finally {
      await daemon.stop('SIGTERM');
    }
  }
  return cells;
}
