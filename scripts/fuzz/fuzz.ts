/**
 * The long hostile-input run (docs/fuzz.md), outside the test suite: the property-based
 * requests of test/support/hostile/ against a real `rollback-receiver serve` process,
 * every case checked (never a 5xx, JSON errors, the predicted status, nothing
 * half-recorded), then the process checked: the same pid, ready, no unhandled error logged.
 *
 *   npm run fuzz -- --count 100000 [--seed 42]
 *
 * Unlike the suite it does not stop at the first failure: it counts them all and prints
 * the first few. Exits 1 on any failure.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { httpSend, sendAndCheck } from '../../test/support/hostile/check.js';
import { socketAbuse, startHostileReceiver } from '../../test/support/hostile/receiver.js';
import { heavyRequests, hostileRequest, validWebhookRequest, type HostileRequest } from '../../test/support/hostile/requests.js';

const SHOWN_FAILURES = 10;
const PROGRESS_EVERY = 5000;

const { values } = parseArgs({ options: { count: { type: 'string', default: '10000' }, seed: { type: 'string' } } });
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive whole number, got ${values.count}`);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);

interface Failure {
  kind: string;
  request: string;
  problems: string[];
}

const failures: Failure[] = [];
let failed = 0;
let cases = 0;
const statuses = new Map<number, number>();

const receiver = await startHostileReceiver('fuzz');
const pid = receiver.pid();
const send = httpSend(receiver.url);
const t0 = performance.now();

async function run(r: HostileRequest): Promise<void> {
  cases++;
  let problems: string[];
  try {
    const checked = await sendAndCheck(send, r);
    statuses.set(checked.answer.status, (statuses.get(checked.answer.status) ?? 0) + 1);
    problems = checked.problems;
  } catch (e) {
    problems = [`no answer: ${String(e)}`];
  }
  if (problems.length === 0) return;
  failed++;
  if (failures.length < SHOWN_FAILURES) failures.push({ kind: r.kind, request: `${r.method} ${r.path.slice(0, 300)} ${String(r.body ?? '').slice(0, 500)}`, problems });
}

try {
  for (const r of heavyRequests()) await run(r);
  const abused = await socketAbuse(receiver.port);
  await fc.assert(
    fc.asyncProperty(fc.oneof({ weight: 9, arbitrary: hostileRequest() }, { weight: 1, arbitrary: validWebhookRequest() }), async (r) => {
      await run(r);
      if (cases % PROGRESS_EVERY === 0) process.stderr.write(`${cases} cases, ${failed} failed, ${Math.round((performance.now() - t0) / 1000)} s\n`);
    }),
    { numRuns: count, seed },
  );
  const seconds = (performance.now() - t0) / 1000;
  const ready = (await fetch(`${receiver.url}/health/ready`)).status;
  const log = fs.readFileSync(receiver.logPath, 'utf8');
  const unhandled = log.split('\n').filter((l) => /unhandled error|uncaughtException|unhandledRejection/.test(l)).length;
  const samePid = receiver.running() && receiver.pid() === pid;
  const cpus = os.cpus();
  const summary = {
    cases,
    generated: count,
    fixed: cases - count,
    rawSocketAbuses: abused,
    failures: failed,
    seed,
    seconds: Math.round(seconds),
    casesPerSecond: Math.round(cases / seconds),
    statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
    process: { samePid, ready, unhandledErrorsLogged: unhandled },
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, os: `${os.type()} ${os.release()}` },
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  for (const f of failures) process.stdout.write(`\nFAILED ${f.kind}\n  ${f.request}\n  ${f.problems.join('\n  ')}\n`);
  process.exitCode = failed === 0 && samePid && ready === 200 && unhandled === 0 ? 0 : 1;
} finally {
  await receiver.stop();
}
