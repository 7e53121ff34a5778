/**
 * The seed's `deployment-helpers.sh monitor-deployment` and the incident report, as
 * `rollback-receiver monitor-deployment` and `report` against a live receiver process
 * and a real Prometheus.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExporter, type Exporter } from '../prometheus/exporter.js';
import { startPrometheus, type RunningPrometheus } from '../prometheus/harness.js';
import { alert, payload } from '../support/alerts.js';
import { runCli, startServe, type RunningService } from '../support/process.js';

const TOKENS = { ROLLBACK_OPERATOR_TOKEN: 'mon-operator' };

describe('monitor-deployment and report', () => {
  let dir: string;
  let exporter: Exporter;
  let prom: RunningPrometheus;
  let svc: RunningService;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rr-mon-'));
    exporter = await startExporter();
    exporter.traffic({ namespace: 'shop', deployment: 'checkout', rps: 40, errorRatio: 0.02 });
    prom = await startPrometheus({ scrapeJobs: exporter.scrapeJobs() });
    await prom.waitForTargets(30_000);
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `environments:\n  production: {namespace: shop, name: checkout}\nmonitoring:\n  enhanced:\n    interval: 1s\n    rateWindow: 5s\n    metrics: [error_rate]\n`,
    );
    svc = await startServe({ ...TOKENS, ROLLBACK_CONFIG: config, ROLLBACK_STATE_DIR: join(dir, 'state'), PROMETHEUS_URL: prom.url });
  }, 90_000);

  afterAll(async () => {
    await svc?.stop();
    await prom?.stop();
    await exporter?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('monitor-deployment --environment opens a window, prints each sample as it arrives and exits 0 when it ends recovered', async () => {
    const r = await runCli(['monitor-deployment', '--url', svc.url, '--environment', 'production', '--duration', '4s'], TOKENS);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^opened monitoring window \S+ on shop\/checkout until /);
    const samples = lines.filter((l) => /error_rate/.test(l));
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(samples.every((l) => /\bok\b/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^window \S+ ended: recovered$/);
  }, 60_000);

  it('monitor-deployment exits 1 when the window breaches, and names bad input', async () => {
    exporter.traffic({ namespace: 'shop', deployment: 'cart', rps: 40, errorRatio: 0.4 });
    const r = await runCli(['monitor-deployment', '--url', svc.url, '--namespace', 'shop', '--name', 'cart', '--duration', '3s'], TOKENS);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error_rate\s+0\.\d+\s+breach/);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/ended: breached$/);
    const bad = await runCli(['monitor-deployment', '--url', svc.url, '--namespace', 'Shop', '--name', 'cart'], TOKENS);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a valid RFC 1123 label');
  }, 60_000);

  it('report prints the incident report of a rollback, and names an unknown id', async () => {
    const body = payload([alert({ labels: { namespace: 'shop', deployment: 'checkout' }, startsAt: new Date().toISOString() })]);
    const res = await fetch(`${svc.url}/webhook`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const id = ((await res.json()) as { decisions: { rollbackId: string }[] }).decisions[0]!.rollbackId;
    const r = await runCli(['report', id, '--url', svc.url], TOKENS);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`# Incident Report: Rollback ${id}`);
    expect(r.stdout).toContain('dry-run: nothing was changed');
    expect(r.stdout).toMatch(/min 0\.0\d+, max 0\.0\d+/);
    const missing = await runCli(['report', 'no-such-id', '--url', svc.url], TOKENS);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('answered 404');
  }, 60_000);
});
