/**
 * Memory of the compiled serve process: at start, after many distinct alerts, and after
 * retention pruned them (the process keeps running throughout).
 */
import Database from 'better-sqlite3';
import { distinctAlerts, webhookPayload } from './payload.js';
import { heapMiB, rssMiB, startReceiver, WEBHOOK_TOKEN } from './servers.js';

export interface MemoryPoint {
  phase: string;
  rssMiB: number;
  heapMiB: number;
  /** Decisions in the store then (pruning shows here). */
  stored: number;
}

export interface MemoryOptions {
  webhooks: number;
  alertsPerWebhook: number;
  /** store.retention (and every guard window) in seconds: how soon records can be pruned. */
  retentionSec: number;
  progress: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `count` webhooks of distinct alerts, four at a time, each expected to answer 200. */
export async function sendWebhooks(url: string, count: number, alertsPerWebhook: number, salt: string): Promise<void> {
  let next = 0;
  const sender = async () => {
    while (next < count) {
      const seq = next++;
      const res = await fetch(`${url}/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
        body: webhookPayload(distinctAlerts(seq, alertsPerWebhook, salt)),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`webhook ${seq} answered ${res.status}: ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, sender));
}

export async function benchMemory(opts: MemoryOptions): Promise<MemoryPoint[]> {
  const w = opts.retentionSec;
  const config = [
    'monitoring:\n  enhanced:\n    enabled: false',
    `store:\n  retention: ${w}`,
    `rollback:\n  cooldownPeriod: ${w}\n  retryWindow: ${w}\n  brake:\n    window: ${w}`,
    '',
  ].join('\n');
  const receiver = await startReceiver({ config, env: { ROLLBACK_DRY_RUN: 'true' } });
  const points: MemoryPoint[] = [];
  const measure = async (phase: string) => {
    const db = new Database(receiver.file('state', 'rollback-receiver.db'), { readonly: true });
    const stored = (db.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n;
    db.close();
    const p = { phase, rssMiB: rssMiB(receiver.pid()!), heapMiB: await heapMiB(receiver.url), stored };
    points.push(p);
    opts.progress(`memory ${phase}: RSS ${p.rssMiB.toFixed(1)} MiB, heap ${p.heapMiB.toFixed(1)} MiB, ${stored} decisions stored`);
  };
  try {
    await sleep(1000);
    await measure('start');
    await sendWebhooks(receiver.url, opts.webhooks, opts.alertsPerWebhook, 'm');
    await sleep(1000);
    await measure(`after ${opts.webhooks * opts.alertsPerWebhook} alerts`);
    // Pruning runs every retention period (at most hourly): two periods later the records are gone.
    await sleep(2 * w * 1000 + 2000);
    await measure('after retention pruned');
  } finally {
    await receiver.stop('SIGTERM');
  }
  return points;
}
