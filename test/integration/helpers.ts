/** Shared helpers for the integration tests: services per test, fixtures, auth headers, metrics parsing, fault injection. */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import request from 'supertest';
import { startTestService, type TestService, type TestServiceOptions } from '../support/service.js';

/** One per-alert entry of a `/webhook` 200 answer (SPEC §3). */
export interface WebhookDecision {
  fingerprint: string;
  startsAt: string;
  trigger: string | null;
  namespace: string | null;
  name: string | null;
  strategy: string | null;
  decision: string;
  reason: string;
  rollbackId?: string;
}

/** One entry of `GET /api/v1/decisions`. */
export interface DecisionView {
  id: string;
  at: string;
  alertname: string | null;
  fingerprint: string;
  startsAt: string;
  status: string;
  trigger: string | null;
  namespace: string | null;
  name: string | null;
  strategy: string | null;
  decision: string;
  reason: string;
  rollbackId: string | null;
  pendingOf: string | null;
  dueAt: string | null;
  labels: Record<string, string>;
}

export interface AlertJson {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface PayloadJson {
  version: string;
  receiver: string;
  status: string;
  groupKey: string;
  truncatedAlerts: number;
  externalURL: string;
  alerts: AlertJson[];
  [extra: string]: unknown;
}

/**
 * Starts services on demand and destroys every one of them after each test, so a failing
 * assertion never leaks an open SQLite file or a timer into the next test.
 */
export function serviceFactory(): (opts?: TestServiceOptions) => TestService {
  const started: TestService[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.destroy()));
  });
  return (opts = {}) => {
    const s = startTestService(opts);
    started.push(s);
    return s;
  };
}

export function fixture(name: string): PayloadJson {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}.json`, import.meta.url), 'utf8')) as PayloadJson;
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

export function postWebhook(app: Express, body: unknown, authorization?: string): request.Test {
  const req = request(app).post('/webhook').set('Content-Type', 'application/json');
  if (authorization) req.set('Authorization', authorization);
  return req.send(JSON.stringify(body));
}

/** POSTs and insists on a 200, returning the decisions. */
export async function decideVia(app: Express, body: unknown, authorization?: string): Promise<WebhookDecision[]> {
  const res = await postWebhook(app, body, authorization);
  if (res.status !== 200) throw new Error(`expected 200 from /webhook, got ${res.status}: ${res.text}`);
  return (res.body as { decisions: WebhookDecision[] }).decisions;
}

/** GET /api/v1/decisions, newest first. */
export async function recordedDecisions(app: Express, query: Record<string, string | number> = {}, authorization?: string): Promise<DecisionView[]> {
  const req = request(app).get('/api/v1/decisions').query({ limit: 1000, ...query });
  if (authorization) req.set('Authorization', authorization);
  const res = await req;
  if (res.status !== 200) throw new Error(`expected 200 from /api/v1/decisions, got ${res.status}: ${res.text}`);
  return (res.body as { decisions: DecisionView[] }).decisions;
}

// ---- Prometheus text exposition -------------------------------------------------------------

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  help: Map<string, string>;
  type: Map<string, string>;
  series: Series[];
}

const SERIES_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Exposition {
  const out: Exposition = { help: new Map(), type: new Map(), series: [] };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? out.help : out.type).set(meta[2]!, meta[3]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SERIES_LINE.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(LABEL_PAIR)) {
      labels[pair[1]!] = pair[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    out.series.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export async function scrape(app: Express): Promise<Exposition> {
  const res = await request(app).get('/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
  return parseExposition(res.text);
}

/** The value of the one series with exactly these labels, or undefined when there is none. */
export function valueOf(exp: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).sort();
  const hit = exp.series.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(want));
  return hit?.value;
}

// ---- fault injection ---------------------------------------------------------------------------

/**
 * Makes the real SQLite file refuse to record a decision for one fingerprint, through a
 * second connection of our own (as another process or a corrupt page would). Returns the undo.
 */
export function failInsertsFor(dbPath: string, fingerprint: string): () => void {
  if (!/^[0-9a-f]{1,16}$/.test(fingerprint)) throw new Error(`not a fingerprint: ${fingerprint}`);
  const db = new Database(dbPath);
  db.pragma('busy_timeout = 5000');
  db.exec(
    `CREATE TRIGGER injected_failure BEFORE INSERT ON decisions WHEN NEW.fingerprint = '${fingerprint}' BEGIN SELECT RAISE(ABORT, 'injected'); END`,
  );
  return () => {
    db.exec('DROP TRIGGER IF EXISTS injected_failure');
    db.close();
  };
}
