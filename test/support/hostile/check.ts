/**
 * The properties every answer to a hostile request must have, over any transport: never a
 * 5xx, a JSON error body naming what is wrong for every 4xx, the status the request's
 * generator predicted, and nothing half-recorded (a webhook payload refused leaves no
 * decision, one accepted is recorded whole, as sent; simulate records nothing).
 */
import http from 'node:http';
import request from 'supertest';
import { ROUTES, expandOptionalSegments } from '../../../src/http/openapi.js';
import { OPERATOR_TOKEN, type HostileRequest } from './requests.js';

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

export type Send = (r: HostileRequest) => Promise<Answer>;

/** In-process: supertest against what the server runs (Service.handler: the webhook fast path, then express). */
export function supertestSend(app: Parameters<typeof request>[0]): Send {
  const agent = request(app);
  return async (r) => {
    const method = r.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete' | 'patch';
    let test = agent[method](r.path);
    for (const [name, value] of Object.entries(r.headers)) test = test.set(name, value);
    if (r.body !== undefined) test = test.send(r.body);
    const res = await test.buffer(true).parse((stream, done) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
    });
    return { status: res.status, contentType: String(res.headers['content-type'] ?? ''), text: res.body as string };
  };
}

/** Across the process boundary: plain node http against a receiver's base URL, bytes as given. */
export function httpSend(baseUrl: string): Send {
  const { hostname, port } = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  return (r) =>
    new Promise((resolve, reject) => {
      // A body always goes with its length (node sends a GET's body unframed otherwise).
      const headers = r.body === undefined ? r.headers : { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) };
      const req = http.request({ host: hostname, port, method: r.method, path: r.path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(r.body);
    });
}

/** Routes that document a 503 for a receiver without a cluster (these runs have none), as path patterns. */
const NO_CLUSTER_ROUTES = ROUTES.filter((route) => /no cluster configured/.test(route.responses[503] ?? '')).flatMap((route) =>
  expandOptionalSegments(route.path).map((path) => ({ method: route.method.toUpperCase(), pattern: new RegExp(`^${path.replace(/:[A-Za-z_]+/g, '[^/]+')}$`) })),
);

/** The one documented 5xx a hostile request can earn from a receiver without a cluster. */
function documentedNoCluster(r: HostileRequest, a: Answer): boolean {
  const path = r.path.split('?')[0]!;
  return a.status === 503 && /^\{"error":"no cluster (is )?configured/.test(a.text) && NO_CLUSTER_ROUTES.some((route) => route.method === r.method && route.pattern.test(path));
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Whether a JSON text holds a lone surrogate in some key or string once parsed. */
function holdsLoneSurrogate(text: string): boolean {
  let found = false;
  JSON.parse(text, (key, value: unknown) => {
    if (LONE_SURROGATE.test(key) || (typeof value === 'string' && LONE_SURROGATE.test(value))) found = true;
    return value;
  });
  return found;
}

/** Everything wrong with one answer (empty: fine). */
export function answerProblems(r: HostileRequest, a: Answer): string[] {
  const problems: string[] = [];
  if (a.status >= 500 && !documentedNoCluster(r, a)) problems.push(`answered ${a.status}: ${a.text.slice(0, 300)}`);
  if (a.status >= 400 && a.status < 500) {
    if (!/^application\/json\b/.test(a.contentType)) problems.push(`${a.status} with Content-Type ${a.contentType}, not JSON: ${a.text.slice(0, 200)}`);
    else {
      try {
        const body = JSON.parse(a.text) as { error?: unknown; problems?: unknown };
        if (typeof body.error !== 'string' || body.error.trim() === '') problems.push(`${a.status} without an error message: ${a.text.slice(0, 200)}`);
        if (body.problems !== undefined && (!Array.isArray(body.problems) || body.problems.length === 0 || !body.problems.every((p) => typeof p === 'string' && p !== ''))) {
          problems.push(`${a.status} with malformed problems: ${a.text.slice(0, 200)}`);
        }
      } catch {
        problems.push(`${a.status} body is not JSON: ${a.text.slice(0, 200)}`);
      }
    }
  }
  if (r.expect && !r.expect.includes(a.status)) problems.push(`expected ${r.expect.join(' or ')}, got ${a.status}: ${a.text.slice(0, 300)}`);
  if (r.mustAccept) {
    const want = holdsLoneSurrogate(String(r.body)) ? 400 : 200;
    if (a.status !== want) problems.push(`a valid payload: expected ${want}, got ${a.status}: ${a.text.slice(0, 300)}`);
  }
  return problems;
}

interface RecordedDecision {
  id: string;
  fingerprint: string;
  decision: string;
  labels: Record<string, string>;
}

async function newestDecisions(send: Send, limit: number): Promise<RecordedDecision[]> {
  const a = await send({ method: 'GET', path: `/api/v1/decisions?limit=${limit}`, headers: { authorization: `Bearer ${OPERATOR_TOKEN}` }, kind: 'read back' });
  if (a.status !== 200) throw new Error(`GET /api/v1/decisions answered ${a.status}: ${a.text.slice(0, 200)}`);
  return (JSON.parse(a.text) as { decisions: RecordedDecision[] }).decisions;
}

const isWebhook = (r: HostileRequest) => r.path.split('?')[0] === '/webhook';

/** Whether a request can record decisions (and so must be checked for what it left behind). */
function decides(r: HostileRequest): boolean {
  const path = r.path.split('?')[0];
  return r.method === 'POST' && (path === '/webhook' || path === '/api/v1/simulate');
}

const sortedEntries = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * Sends one request and checks its answer and what it left in the decision records. The
 * receiver must get no other decisions meanwhile (requests are sent one at a time).
 */
export async function sendAndCheck(send: Send, r: HostileRequest): Promise<{ answer: Answer; problems: string[] }> {
  if (!decides(r)) {
    const answer = await send(r);
    return { answer, problems: answerProblems(r, answer) };
  }
  const before = (await newestDecisions(send, 1))[0]?.id;
  const answer = await send(r);
  const problems = answerProblems(r, answer);
  // Read back one more than the alerts answered: the decision that was newest before must be right behind them.
  const answeredCount = answer.status === 200 && isWebhook(r) ? (JSON.parse(answer.text) as { decisions: unknown[] }).decisions.length : 0;
  const newest = await newestDecisions(send, answeredCount + 1);
  const at = before === undefined ? newest.length : newest.findIndex((d) => d.id === before);
  const added = at < 0 ? `more than ${answeredCount}` : at;
  if (answer.status !== 200 || !isWebhook(r)) {
    if (added !== 0) problems.push(`answered ${answer.status}${isWebhook(r) ? '' : ' (simulate)'} yet recorded ${added} decisions`);
    return { answer, problems };
  }
  const answered = (JSON.parse(answer.text) as { decisions: { fingerprint: string; decision: string }[] }).decisions;
  const sent = (JSON.parse(String(r.body)) as { alerts: { labels: Record<string, string> }[] }).alerts;
  if (answered.length !== sent.length) problems.push(`answered ${answered.length} decisions for ${sent.length} alerts`);
  if (added !== answered.length) problems.push(`recorded ${added} decisions for ${answered.length} answered`);
  const recorded = newest.slice(0, answered.length).reverse();
  answered.forEach((d, i) => {
    const rec = recorded[i];
    if (!rec || rec.fingerprint !== d.fingerprint || rec.decision !== d.decision) {
      problems.push(`alert ${i}: answered ${d.fingerprint}/${d.decision}, recorded ${rec ? `${rec.fingerprint}/${rec.decision}` : 'nothing'}`);
    } else if (sent[i] && sortedEntries(rec.labels) !== sortedEntries(sent[i].labels)) {
      problems.push(`alert ${i}: recorded labels ${JSON.stringify(rec.labels).slice(0, 200)} differ from those sent ${JSON.stringify(sent[i].labels).slice(0, 200)}`);
    }
  });
  return { answer, problems };
}
