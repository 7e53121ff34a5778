/**
 * The seed's `deployment-helpers.sh rollback --environment production --rollback-tag … --reason …`,
 * as `rollback-receiver rollback`, against a live receiver process and the real apiserver.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startServe, type RunningService } from '../support/process.js';
import { connectCluster } from './connect.js';
import { waitFor } from './wait.js';
import { Workloads } from './workloads.js';

const cluster = connectCluster();
const k = new Workloads(cluster);
const TOKENS = { ROLLBACK_OPERATOR_TOKEN: 'cli-operator', ROLLBACK_WEBHOOK_TOKEN: 'cli-webhook' };

describe('rollback-receiver rollback', () => {
  let dir: string;
  let ns: string;
  let svc: RunningService;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rr-cli-'));
    ns = await cluster.ns('cli');
    await k.deployment(ns, 'rust-ai-ide', 'ide:v1.1.0');
    await k.available(ns, 'rust-ai-ide');
    await k.setImage(ns, 'rust-ai-ide', 'ide:v1.2.0');
    await k.available(ns, 'rust-ai-ide');
    const kubeconfig = join(dir, 'kubeconfig');
    cluster.writeKubeconfig(kubeconfig);
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `environments:\n  production:\n    namespace: ${ns}\n    name: rust-ai-ide\n`);
    svc = await startServe({ ...TOKENS, KUBECONFIG: kubeconfig, ROLLBACK_DRY_RUN: 'false', ROLLBACK_STATE_DIR: join(dir, 'state'), ROLLBACK_CONFIG: config });
  }, 60_000);

  afterAll(async () => {
    await svc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--dry-run prints the plan; the real run restores the tagged revision', async () => {
    const dry = await runCli(['rollback', '--url', svc.url, '--environment', 'production', '--rollback-tag', 'v1.1.0', '--reason', 'Performance degradation in v1.2.0', '--dry-run', '--output', 'json'], TOKENS);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as { plan: { method: string; path: string }[]; validation: string | null };
    expect(plan.validation).toBeNull();
    expect(plan.plan).toEqual([expect.objectContaining({ method: 'PATCH', path: `/apis/apps/v1/namespaces/${ns}/deployments/rust-ai-ide?fieldManager=rollback-receiver` })]);
    expect(k.image(await k.read(ns, 'rust-ai-ide'))).toBe('ide:v1.2.0');

    const live = await runCli(['rollback', '--url', svc.url, '--environment', 'production', '--rollback-tag', 'v1.1.0', '--reason', 'Performance degradation in v1.2.0', '-o', 'json'], TOKENS);
    expect(live.code).toBe(0);
    expect(JSON.parse(live.stdout)).toMatchObject({ kind: 'manual', status: 'running', namespace: ns, name: 'rust-ai-ide' });
    await waitFor(async () => k.image(await k.read(ns, 'rust-ai-ide')) === 'ide:v1.1.0', 20_000);
    await k.available(ns, 'rust-ai-ide');
  }, 60_000);

  it('quarantine list shows the revision rolled away from; quarantine clear lifts it', async () => {
    const text = await runCli(['quarantine', 'list', '--url', svc.url, '--namespace', ns, '--name', 'rust-ai-ide'], TOKENS);
    expect(text.stdout).toMatch(new RegExp(`^${ns}/rust-ai-ide  bad +[0-9a-f]{12}  revision 2 \\(ide:v1\\.2\\.0\\)  since `, 'm'));
    const list = await runCli(['quarantine', 'list', '--url', svc.url, '--namespace', ns, '--name', 'rust-ai-ide', '--status', 'bad', '-o', 'json'], TOKENS);
    expect(list.code).toBe(0);
    const bad = (JSON.parse(list.stdout) as { revisions: { revision: string; label: string }[] }).revisions;
    expect(bad).toEqual([expect.objectContaining({ label: 'revision 2 (ide:v1.2.0)' })]);
    const clear = await runCli(['quarantine', 'clear', ns, 'rust-ai-ide', bad[0]!.revision, '--url', svc.url, '-o', 'json'], TOKENS);
    expect(clear.code).toBe(0);
    expect(JSON.parse(clear.stdout)).toMatchObject({ cleared: [{ revision: bad[0]!.revision }] });
    const unknown = await runCli(['quarantine', 'clear', ns, 'rust-ai-ide', bad[0]!.revision, '--url', svc.url], TOKENS);
    expect(unknown.code).toBe(2); // a 404 from the receiver
    expect(unknown.stderr).toContain('is not quarantined');
  }, 60_000);

  it('names what is wrong: unknown environment, missing token, bad revision', async () => {
    const unknown = await runCli(['rollback', '--url', svc.url, '--environment', 'staging', '--reason', 'x'], TOKENS);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown environment \\"staging\\" (configured: production)');
    const noToken = await runCli(['rollback', '--url', svc.url, '--environment', 'production', '--reason', 'x'], {});
    expect(noToken.code).toBe(5);
    expect(noToken.stderr).toContain('answered 401');
    const badRevision = await runCli(['rollback', '--url', svc.url, '--environment', 'production', '--to-revision', 'latest', '--reason', 'x'], TOKENS);
    expect(badRevision.code).toBe(2);
    expect(badRevision.stderr).toContain('"latest" is not a revision number');
  }, 60_000);
});
