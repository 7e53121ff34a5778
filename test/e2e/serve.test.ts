/**
 * The README's start line, across a real process boundary: the service starts on
 * defaults in dry-run, answers health, decides, survives a restart, stops on SIGTERM.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alert, payload } from '../support/alerts.js';
import { runCli, startServe } from '../support/process.js';

let stateDir: string;
beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'rr-e2e-'));
});
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

async function post(url: string, body: unknown, token?: string): Promise<{ status: number; body: { decisions: { decision: string }[] } }> {
  const res = await fetch(`${url}/webhook`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { decisions: { decision: string }[] } };
}

describe('rollback-receiver serve', () => {
  const firing = payload([alert({ fingerprint: 'e2e0000000000001' })]);

  it('starts in dry-run on defaults, says so first, decides dry_run then duplicate, and still duplicate after a restart', async () => {
    const first = await startServe({ ROLLBACK_STATE_DIR: stateDir });
    try {
      const lines = first.output().split('\n').filter(Boolean);
      expect(JSON.parse(lines[0]!).msg).toMatch(/^mode: DRY-RUN/);
      expect(first.output()).toContain('config: none (built-in defaults)');
      expect(await (await fetch(`${first.url}/health/live`)).json()).toEqual({ status: 'ok' });
      expect((await post(first.url, firing)).body.decisions[0]!.decision).toBe('dry_run');
      expect((await post(first.url, firing)).body.decisions[0]!.decision).toBe('duplicate');
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect(first.output()).toContain('shutdown complete');

    const second = await startServe({ ROLLBACK_STATE_DIR: stateDir });
    try {
      expect((await post(second.url, firing)).body.decisions[0]!.decision).toBe('duplicate');
      const other = payload([alert({ fingerprint: 'e2e0000000000002' })]);
      expect((await post(second.url, other)).body.decisions[0]!.decision).toBe('cooldown');
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 60_000);

  it('requires the webhook token from a file, and never logs it', async () => {
    const tokenFile = join(stateDir, 'token');
    writeFileSync(tokenFile, 's3cret-webhook-token\n');
    const svc = await startServe({ ROLLBACK_STATE_DIR: join(stateDir, 'auth'), ROLLBACK_WEBHOOK_TOKEN_FILE: tokenFile });
    try {
      const body = payload([alert()]);
      expect((await post(svc.url, body)).status).toBe(401);
      expect((await post(svc.url, body, 'wrong')).status).toBe(401);
      expect((await post(svc.url, body, 's3cret-webhook-token')).status).toBe(200);
    } finally {
      await svc.stop();
    }
    expect(svc.output()).not.toContain('s3cret-webhook-token');
  });

  it('refuses to start live without a webhook token, and names the fix', async () => {
    const r = await runCli(['serve'], { ROLLBACK_STATE_DIR: join(stateDir, 'live'), ROLLBACK_DRY_RUN: 'false' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/live mode needs a webhook token \(ROLLBACK_WEBHOOK_TOKEN or ROLLBACK_WEBHOOK_TOKEN_FILE\)/);
  });

  it('a KUBECONFIG that cannot be loaded stops the start naming the file, not with a stack trace', async () => {
    const empty = join(stateDir, 'empty-kubeconfig');
    writeFileSync(empty, '');
    const r = await runCli(['serve'], { ROLLBACK_STATE_DIR: join(stateDir, 'badkube'), KUBECONFIG: empty });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`rollback-receiver: cannot load the cluster configuration (KUBECONFIG ${empty}):`);
    expect(r.stderr).not.toContain('unexpected error');
  });

  it('stops with every bad config key named', async () => {
    const file = join(stateDir, 'bad.yaml');
    writeFileSync(file, 'rollback:\n  cooldownPeriod: soon\n  maximumRetries: -1\n');
    const r = await runCli(['serve', '--config', file], { ROLLBACK_STATE_DIR: join(stateDir, 'bad') });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('rollback.cooldownPeriod: "soon" is not a duration');
    expect(r.stderr).toMatch(/rollback\.maximumRetries: /);
  });
});

describe('rollback-receiver check-config and simulate', () => {
  it('check-config prints what a valid config enables', async () => {
    const file = join(stateDir, 'seed.yaml');
    writeFileSync(file, 'rollback:\n  triggers:\n    - errorRateThreshold: 0.1\n  cooldownPeriod: 300\n');
    const r = await runCli(['check-config', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`config OK: ${file}`);
    expect(r.stdout).toContain('  - error_rate: rollback_trigger="error_rate"; strategy from labels, else deployment-undo; threshold 0.1');
  });

  it('rejects bad flags with a message naming them', async () => {
    const r = await runCli(['serve', '--port', 'eighty']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"eighty" is not a port number/);
  });

  it('simulate decides a payload offline against an empty state', async () => {
    const body = payload([alert({ fingerprint: 'sim0000000000001' }), alert({ fingerprint: 'sim0000000000002' }), alert({ labels: { rollback_trigger: 'disk' } })]);
    const r = await runCli(['simulate', '--file', '-', '--output', 'json'], {}, JSON.stringify(body));
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { decisions: { decision: string }[] };
    expect(out.decisions.map((d) => d.decision)).toEqual(['dry_run', 'cooldown', 'no_match']);
  });

  it('simulate names the problems of an invalid payload', async () => {
    const r = await runCli(['simulate', '--file', '-'], {}, JSON.stringify({ version: '3', alerts: [] }));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('version: must be "4"');
  });
});
