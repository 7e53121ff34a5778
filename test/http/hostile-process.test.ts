/**
 * Hostile input across the process boundary: the same property-based requests as
 * hostile-input.test.ts, the heaviest cases and abuse below HTTP, against a real
 * `rollback-receiver serve` process. It must answer every one properly and still be the
 * same live process at the end.
 */
import fs from 'node:fs';
import fc from 'fast-check';
import type { Daemon } from '../support/daemon.js';
import { httpSend, sendAndCheck } from '../support/hostile/check.js';
import { socketAbuse, startHostileReceiver } from '../support/hostile/receiver.js';
import { heavyRequests, hostileRequest, validWebhookRequest, type HostileRequest } from '../support/hostile/requests.js';

let receiver: Daemon;
let pid: number | undefined;

beforeAll(async () => {
  receiver = await startHostileReceiver('hostile');
  pid = receiver.pid();
}, 90_000);

afterAll(async () => {
  await receiver?.stop();
});

async function holds(r: HostileRequest): Promise<void> {
  const { problems } = await sendAndCheck(httpSend(receiver.url), r);
  if (problems.length > 0) throw new Error(`${r.kind}: ${r.method} ${r.path.slice(0, 200)}\n${problems.join('\n')}`);
}

describe('hostile input (a real receiver process)', () => {
  it('answers the heaviest cases properly', async () => {
    for (const r of heavyRequests()) await holds(r);
  }, 60_000);

  it('survives bodies cut off, connections dropped mid-body and bytes that are not HTTP', async () => {
    expect(await socketAbuse(receiver.port)).toBeGreaterThan(0);
    const live = await fetch(`${receiver.url}/health/live`);
    expect(live.status).toBe(200);
  }, 60_000);

  it('any request to any route, and valid payloads: every answer proper, nothing half-recorded', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(hostileRequest(), validWebhookRequest()), holds), { numRuns: 150 });
  }, 120_000);

  it('is the same process, alive and ready, with no unhandled error in its log', async () => {
    expect(receiver.running()).toBe(true);
    expect(receiver.pid()).toBe(pid);
    expect((await fetch(`${receiver.url}/health/ready`)).status).toBe(200);
    expect(fs.readFileSync(receiver.logPath, 'utf8')).not.toMatch(/unhandled error|uncaughtException|unhandledRejection/);
  });
});
