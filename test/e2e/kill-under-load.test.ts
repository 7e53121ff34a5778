/**
 * What a 200 promises, under fire: the real `rollback-receiver serve` process (SQLite
 * backend, dry-run) takes a steady stream of webhooks and is killed with SIGKILL at random
 * moments, three times; after each restart the stream goes on. Every alert that got a 200
 * is in the store afterwards — read from the SQLite file itself, not from the process.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Daemon } from '../support/daemon.js';
import { receiverProcess } from '../support/receiver-process.js';

const KILLS = 3;

function payloadOf(fingerprint: string) {
  return {
    version: '4',
    groupKey: '{}:{alertname="HighErrorRate"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'rollback-receiver',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: '',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'HighErrorRate', namespace: 'prod', deployment: `svc-${fingerprint.slice(-3)}`, rollback_trigger: 'error_rate' },
        annotations: {},
        startsAt: '2026-12-01T10:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: '',
        fingerprint,
      },
    ],
  };
}

describe('kill -9 at random moments under steady load', () => {
  let receiver: Daemon;
  afterAll(async () => {
    await receiver?.stop();
  });

  it('every alert that got a 200 is in the store', async () => {
    receiver = await receiverProcess({ label: 'kill-load', env: { ROLLBACK_DRY_RUN: 'true', LOG_LEVEL: 'warn' } });
    fs.writeFileSync(receiver.file('config.yaml'), 'monitoring:\n  enhanced:\n    enabled: false\n');
    // No kubeconfig written: no cluster, the dry-run receiver decides on its own state only.
    await receiver.start();
    const acknowledged = new Set<string>();
    let sent = 0;
    let next = 0;
    let stopped = false;
    const sender = async () => {
      while (!stopped) {
        const fingerprint = (0x10000 + next++).toString(16).padStart(16, '0');
        sent++;
        try {
          const res = await fetch(`${receiver.url}/webhook`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(payloadOf(fingerprint)),
            signal: AbortSignal.timeout(5000),
          });
          if (res.status === 200) acknowledged.add(fingerprint);
          await res.arrayBuffer();
        } catch {
          // Down (being killed or restarting): Alertmanager would retry; this sender moves on.
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const senders = Array.from({ length: 4 }, sender);
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 1500));
      await receiver.kill('SIGKILL');
      await receiver.restart();
    }
    await new Promise((r) => setTimeout(r, 500));
    stopped = true;
    await Promise.all(senders);
    await receiver.kill('SIGKILL');

    const db = new Database(path.join(receiver.file('state'), 'rollback-receiver.db'), { readonly: true });
    try {
      const recorded = new Set(db.prepare<[], { fingerprint: string }>('SELECT fingerprint FROM decisions').all().map((r) => r.fingerprint));
      const lost = [...acknowledged].filter((f) => !recorded.has(f));
      process.stderr.write(`[kill -9 under load] ${sent} sent, ${acknowledged.size} acknowledged with 200, ${recorded.size} recorded, ${lost.length} lost, ${KILLS} kills\n`);
      expect(acknowledged.size).toBeGreaterThan(0);
      expect(lost).toEqual([]);
    } finally {
      db.close();
    }
  }, 180_000);
});
