/**
 * The status page in a real headless browser (Debian's chromium driven by playwright-core)
 * against a real receiver process holding real state: a dry-run rollback and its
 * cooldown from an alert posted to /webhook, and a monitoring window whose samples come
 * from a real Prometheus scraping a loopback exporter. Screenshots are saved under
 * test-artifacts/ for people to look at.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import playwright, { type Browser, type Page } from 'playwright-core';
import { startExporter, type Exporter } from '../prometheus/exporter.js';
import { startPrometheus, type RunningPrometheus } from '../prometheus/harness.js';
import { alert, payload } from '../support/alerts.js';
import { sleep } from '../support/daemon.js';
import { ROOT, startServe, type RunningService } from '../support/process.js';

const TOKEN = 'status-page-operator-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const ARTIFACTS = join(ROOT, 'test-artifacts');
/** Labels come from alerts: these must show as text and never run. */
const HOSTILE_ALERTNAME = '<img src=x onerror="document.title=\'pwned\'">HighErrorRate';
const HOSTILE_SUMMARY = "<script>document.title='pwned'</script>5xx above 10%";

interface WindowJson {
  id: string;
  samples: { metric: string; state: string }[];
}

describe('GET / in a browser', () => {
  let dir: string;
  let exporter: Exporter;
  let prom: RunningPrometheus;
  let svc: RunningService;
  let browser: Browser;
  let rollbackId: string;
  let windowId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rr-page-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    exporter = await startExporter();
    exporter.traffic({ namespace: 'shop', deployment: 'cart', rps: 40, errorRatio: 0.3, latencySeconds: 0.2 });
    prom = await startPrometheus({ scrapeJobs: exporter.scrapeJobs() });
    await prom.waitForTargets(60_000);
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'monitoring:\n  enhanced:\n    interval: 1s\n    rateWindow: 5s\n    minRateWindow: 2s\n    metrics: [error_rate, response_time]\n');
    svc = await startServe({ ROLLBACK_OPERATOR_TOKEN: TOKEN, ROLLBACK_CONFIG: config, ROLLBACK_STATE_DIR: join(dir, 'state'), PROMETHEUS_URL: prom.url });

    // A dry-run rollback and the cooldown it starts, from a real alert.
    const body = payload([
      alert({ labels: { alertname: HOSTILE_ALERTNAME, namespace: 'shop', deployment: 'checkout' }, annotations: { summary: HOSTILE_SUMMARY }, startsAt: new Date().toISOString() }),
    ]);
    const posted = await fetch(`${svc.url}/webhook`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const decision = ((await posted.json()) as { decisions: { decision: string; rollbackId: string }[] }).decisions[0]!;
    expect(decision.decision).toBe('dry_run');
    rollbackId = decision.rollbackId;

    // A monitoring window on a target that is failing: error_rate breaches, response_time stays under its threshold.
    const opened = await fetch(`${svc.url}/api/v1/windows`, {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({ namespace: 'shop', name: 'cart', duration: '10m' }),
    });
    expect(opened.status).toBe(201);
    windowId = ((await opened.json()) as WindowJson).id;
    for (let w: WindowJson | undefined; ; await sleep(500)) {
      w = (await (await fetch(`${svc.url}/api/v1/windows/${windowId}`, { headers: AUTH })).json()) as WindowJson;
      const known = (metric: string) => w!.samples.filter((s) => s.metric === metric && s.state !== 'unknown').length;
      if (known('error_rate') >= 3 && known('response_time') >= 3) break;
    }

    browser = await playwright.chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      // Playwright gives each launch a fresh temporary user-data-dir and removes it on close.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await prom?.stop();
    await exporter?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport, httpCredentials: { username: 'sre', password: TOKEN } });
    const page = await context.newPage();
    const res = await page.goto(`${svc.url}/`);
    expect(res?.status()).toBe(200);
    return page;
  }

  it('answers 401 with a Basic challenge without credentials or with a wrong token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const answered = page.waitForResponse(`${svc.url}/`);
    // Having no credentials to answer the challenge with, Chromium may end the navigation with ERR_INVALID_AUTH_CREDENTIALS; the answer it got is what counts.
    await page.goto(`${svc.url}/`).catch(() => undefined);
    const res = await answered;
    expect(res.status()).toBe(401);
    expect(res.headers()['www-authenticate']).toMatch(/^Basic realm="rollback-receiver"/);
    await context.close();
    // A browser given a wrong password gives up before showing the answer; the answer itself:
    const wrong = await fetch(`${svc.url}/`, { headers: { Authorization: `Basic ${Buffer.from('sre:wrong').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic realm="rollback-receiver"/);
  });

  it('shows the mode, the switches, the cooldown, the decision with its reason and the dry-run rollback', async () => {
    const page = await open();
    await expect(page.locator('#mode').textContent()).resolves.toBe('dry-run');
    await expect(page.locator('#freeze').textContent()).resolves.toContain('not frozen');
    await expect(page.locator('#brake').textContent()).resolves.toContain('1 of 10 rollbacks');

    const cooldown = page.locator('#cooldowns tbody tr', { hasText: 'shop/checkout' });
    await expect(cooldown.count()).resolves.toBe(1);
    await expect(cooldown.textContent()).resolves.toMatch(/\d+m\d*s? left|\d+s left|5m left/);

    const decision = page.locator('#decisions tbody tr', { hasText: 'shop/checkout' });
    await expect(decision.locator('.decision').textContent()).resolves.toBe('dry_run');
    await expect(decision.textContent()).resolves.toContain(HOSTILE_ALERTNAME);
    await expect(decision.textContent()).resolves.toContain('dry-run: would roll back shop/checkout');

    const rollback = page.locator('#rollbacks tbody tr', { hasText: 'shop/checkout' });
    await expect(rollback.textContent()).resolves.toContain('dry-run (nothing changed)');
    await expect(rollback.textContent()).resolves.toContain(HOSTILE_SUMMARY);

    // Nothing from the alert ran or became markup.
    await expect(page.title()).resolves.toBe('rollback-receiver (dry-run)');
    await expect(page.locator('script').count()).resolves.toBe(0);
    await expect(page.locator('#decisions img').count()).resolves.toBe(0);

    await page.screenshot({ path: join(ARTIFACTS, 'status-page.png'), fullPage: true });
    await page.context().close();
  }, 60_000);

  it('draws the monitoring window: every sample against its threshold', async () => {
    const page = await open();
    const card = page.locator(`.window[data-window="${windowId}"]`);
    await expect(card.textContent()).resolves.toContain('shop/cart');
    await expect(card.textContent()).resolves.toContain('ends in');
    for (const [metric, threshold, state] of [
      ['error_rate', '0.05', 'breach'],
      ['response_time', '3000', 'ok'],
    ] as const) {
      const figure = card.locator('figure', { has: page.locator(`svg[data-metric="${metric}"]`) });
      const caption = (await figure.locator('figcaption').textContent())!;
      const drawn = Number(/^\S+: (\d+) samples/.exec(caption)?.[1]);
      expect(drawn).toBeGreaterThanOrEqual(3);
      await expect(figure.locator('circle.sample').count()).resolves.toBe(drawn);
      await expect(figure.locator(`circle.sample.${state}`).count()).resolves.toBeGreaterThanOrEqual(3);
      await expect(figure.locator('line.threshold').getAttribute('data-threshold')).resolves.toBe(threshold);
      expect(caption).toContain(`threshold ${threshold}`);
    }
    await expect(card.locator('.badge').textContent()).resolves.toBe('breached');
    await page.context().close();
  }, 60_000);

  it('links each rollback to its incident report, with the same credentials', async () => {
    const page = await open();
    const link = page.locator('#rollbacks tbody tr', { hasText: 'shop/checkout' }).getByRole('link', { name: 'incident report' });
    await expect(link.getAttribute('href')).resolves.toBe(`/api/v1/rollbacks/${rollbackId}/report`);
    const [res] = await Promise.all([page.waitForNavigation(), link.click()]);
    expect(res?.status()).toBe(200);
    await expect(page.locator('body').textContent()).resolves.toContain(`# Incident Report: Rollback ${rollbackId}`);
    await page.context().close();
  }, 60_000);

  it('fits a narrow window without sideways scrolling, and refreshes itself', async () => {
    const page = await open({ width: 360, height: 740 });
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    // Tables turn into labelled rows: the header row is hidden, each cell names its column.
    await expect(page.locator('#decisions thead').isVisible()).resolves.toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-narrow.png'), fullPage: true });
    const shownAt = await page.locator('header time').getAttribute('datetime');
    await page.waitForEvent('load', { timeout: 30_000 });
    await expect(page.locator('header time').getAttribute('datetime')).resolves.not.toBe(shownAt);
    await page.context().close();
  }, 60_000);
});
