/**
 * The CLI's contract with scripts (docs/cli.md): exit codes by kind of failure, a message
 * naming what is wrong, `--output json` on the commands that print data, and
 * `npx rollback-receiver` working from the package.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/exit-codes.js';
import { alert, payload } from '../support/alerts.js';
import { freePort } from '../support/daemon.js';
import { ROOT, runCli, startServe, type RunningService } from '../support/process.js';

const TOKEN = 'cli-exit-codes-operator-token';
const AUTH = { ROLLBACK_OPERATOR_TOKEN: TOKEN };
/** Each CLI run is a fresh Node process compiling TypeScript: slow on a busy machine. */
const SLOW = 90_000;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rr-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bad input exits 2 and names the problem, before anything is sent', () => {
  test.each([
    [['status', '--bogus'], "unknown option '--bogus'"],
    [['check-config', '--output', 'yaml'], 'Allowed choices are text, json'],
    [['monitor-deployment', '--namespace', 'shop', '--name', 'api', '--duration', 'soon'], '"soon" is not a duration'],
    [['rollback', '--namespace', 'shop', '--name', 'api'], "required option '-r, --reason <text>' not specified"],
    [['rollback', '--reason', 'bad release'], 'name the target: --environment E, or --namespace N --name D'],
    [['rollback', '--namespace', 'shop', '--name', 'api', '--reason', 'x', '--strategy', 'yolo'], 'Allowed choices are deployment-undo, blue-green, scale-swap, helm'],
    [['report'], "missing required argument 'rollback-id'"],
    [['status', '--url', 'ftp://receiver'], '"ftp://receiver" is not an http(s) URL'],
    [['simulate', '--file', '/nonexistent/payload.json'], 'cannot read /nonexistent/payload.json'],
  ])('%j', async (args, message) => {
    const r = await runCli(args);
    expect([r.code, r.stdout]).toEqual([EXIT.usage, '']);
    expect(r.stderr).toContain(message);
  }, SLOW);

  it('an invalid config file, with every bad key named', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'rollback:\n  maximumRetries: 0\n');
    const r = await runCli(['check-config', '--config', file, '--output', 'json']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('rollback.maximumRetries');
  }, SLOW);
});

describe('a receiver that is down exits 3', () => {
  let url: string;
  beforeAll(async () => {
    url = `http://127.0.0.1:${await freePort()}`;
  });

  test.each([
    [['status']],
    [['report', 'some-id']],
    [['rollback', '--namespace', 'shop', '--name', 'api', '--reason', 'bad release']],
    [['monitor-deployment', '--namespace', 'shop', '--name', 'api']],
  ])('%j', async (args) => {
    const r = await runCli([...args, '--url', url], AUTH);
    expect(r.code).toBe(EXIT.unavailable);
    expect(r.stderr).toMatch(new RegExp(`cannot reach ${url}/api/v1/\\S+: ECONNREFUSED`));
  }, SLOW);

  it('ROLLBACK_URL is used when --url is not given', async () => {
    const r = await runCli(['status'], { ...AUTH, ROLLBACK_URL: url });
    expect(r.code).toBe(EXIT.unavailable);
    expect(r.stderr).toContain(`cannot reach ${url}/api/v1/status`);
  }, SLOW);
});

describe('against a running receiver', () => {
  let svc: RunningService;
  beforeAll(async () => {
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'monitoring:\n  enhanced:\n    enabled: false\n');
    svc = await startServe({ ...AUTH, ROLLBACK_CONFIG: config, ROLLBACK_STATE_DIR: join(dir, 'state') });
  }, 60_000);
  afterAll(async () => {
    await svc?.stop();
  });

  it('status prints text by default and JSON with --output json', async () => {
    const [text, json] = await Promise.all([runCli(['status', '--url', svc.url], AUTH), runCli(['status', '--url', svc.url, '--output', 'json'], AUTH)]);
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).toMatch(/^mode: dry-run\nfreeze: off\nbrake: 0 of 10 rollbacks in 15m\n/);
    expect(json.code).toBe(EXIT.ok);
    expect(JSON.parse(json.stdout)).toMatchObject({ mode: 'dry-run', freeze: { frozen: false }, brake: { max: 10 } });
  }, SLOW);

  it('a missing or wrong operator token exits 5', async () => {
    const [none, wrong] = await Promise.all([runCli(['status', '--url', svc.url]), runCli(['status', '--url', svc.url], { ROLLBACK_OPERATOR_TOKEN: 'wrong' })]);
    for (const r of [none, wrong]) {
      expect(r.code).toBe(EXIT.unauthorized);
      expect(r.stderr).toContain('answered 401');
    }
  }, SLOW);

  it('a request the receiver declines exits 4 (monitoring disabled: 409)', async () => {
    const r = await runCli(['monitor-deployment', '--url', svc.url, '--namespace', 'shop', '--name', 'api'], AUTH);
    expect(r.code).toBe(EXIT.refused);
    expect(r.stderr).toContain('answered 409');
    expect(r.stderr).toContain('monitoring is disabled');
  }, SLOW);

  it('input the receiver rejects exits 2 (unknown rollback: 404; bad namespace: 400)', async () => {
    const [missing, badName] = await Promise.all([
      runCli(['report', 'no-such-rollback', '--url', svc.url], AUTH),
      runCli(['rollback', '--url', svc.url, '--namespace', 'Shop', '--name', 'api', '--reason', 'x'], AUTH),
    ]);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain('answered 404');
    expect(badName.code).toBe(EXIT.usage);
    expect(badName.stderr).toContain('answered 400');
  }, SLOW);

  it('a receiver that cannot do it exits 3 (manual rollback without a cluster: 503)', async () => {
    const r = await runCli(['rollback', '--url', svc.url, '--namespace', 'shop', '--name', 'api', '--reason', 'bad release'], AUTH);
    expect(r.code).toBe(EXIT.unavailable);
    expect(r.stderr).toContain('answered 503');
  }, SLOW);

  it('simulate --url and report print text or JSON', async () => {
    const file = join(dir, 'payload.json');
    writeFileSync(file, JSON.stringify(payload([alert({ labels: { namespace: 'shop', deployment: 'checkout' }, startsAt: new Date().toISOString() })])));
    const [text, json] = await Promise.all([
      runCli(['simulate', '--file', file, '--url', svc.url], AUTH),
      runCli(['simulate', '--file', file, '--url', svc.url, '-o', 'json'], AUTH),
    ]);
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).toContain(`simulated against the live state of ${svc.url}; nothing was recorded`);
    expect(text.stdout).toMatch(/^dry_run +shop\/checkout \(trigger error_rate\): dry-run: would roll back shop\/checkout/m);
    expect((JSON.parse(json.stdout) as { decisions: { decision: string }[] }).decisions.map((d) => d.decision)).toEqual(['dry_run']);

    const posted = await fetch(`${svc.url}/webhook`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload([alert({ labels: { namespace: 'shop', deployment: 'cart' }, startsAt: new Date().toISOString() })])) });
    const id = ((await posted.json()) as { decisions: { rollbackId: string }[] }).decisions[0]!.rollbackId;
    const report = await runCli(['report', id, '--url', svc.url, '--output', 'json'], AUTH);
    expect(report.code).toBe(EXIT.ok);
    expect(JSON.parse(report.stdout)).toEqual({ id, markdown: expect.stringContaining(`# Incident Report: Rollback ${id}`) });
  }, SLOW);

  it('check-config --output json', async () => {
    const r = await runCli(['check-config', '--output', 'json']);
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: true, mode: 'dry-run', cooldownSeconds: 300, triggers: expect.arrayContaining([expect.objectContaining({ name: 'error_rate' })]) });
  }, SLOW);
});

describe('npx rollback-receiver', () => {
  it('runs the compiled command from the package (the `prepare` build), with the same exit codes', () => {
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8' });
    expect([build.status, build.stderr]).toEqual([0, '']);
    const version = spawnSync('npx', ['--no-install', 'rollback-receiver', '--version'], { cwd: ROOT, encoding: 'utf8' });
    expect([version.status, version.stdout.trim()]).toEqual([0, (JSON.parse(spawnSync('npm', ['pkg', 'get', 'version'], { cwd: ROOT, encoding: 'utf8' }).stdout) as string)]);
    const bad = spawnSync('npx', ['--no-install', 'rollback-receiver', 'status', '--output', 'yaml'], { cwd: ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(EXIT.usage);
    expect(bad.stderr).toContain('Allowed choices are text, json');
  }, 2 * SLOW);
});
