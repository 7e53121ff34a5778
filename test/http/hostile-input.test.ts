/**
 * Hostile input, in-process (supertest on Service.handler, for volume): property-based
 * requests to every declared route (test/support/hostile/), through the webhook fast path
 * and express alike. Never a 5xx, every 4xx a JSON error naming what is wrong, the status
 * the generator predicts, nothing half-recorded. The longer run is `npm run fuzz`
 * (docs/fuzz.md); test/http/hostile-process.test.ts sends the same requests across the
 * process boundary.
 */
import fc from 'fast-check';
import { serviceFactory } from '../integration/helpers.js';
import { sendAndCheck, supertestSend } from '../support/hostile/check.js';
import { heavyRequests, hostileRequest, OPERATOR_TOKEN, validWebhookRequest, WEBHOOK_TOKEN, type HostileRequest } from '../support/hostile/requests.js';

const start = serviceFactory();
const receiver = () => start({ credentials: { webhookToken: WEBHOOK_TOKEN, operatorToken: OPERATOR_TOKEN } });

async function holds(send: ReturnType<typeof supertestSend>, r: HostileRequest): Promise<void> {
  const { problems } = await sendAndCheck(send, r);
  if (problems.length > 0) throw new Error(`${r.kind}: ${r.method} ${r.path.slice(0, 200)}\n${problems.join('\n')}`);
}

describe('hostile input (in-process)', () => {
  it('any request to any route: never a 5xx, a JSON error for every 4xx, the predicted status, nothing half-recorded', async () => {
    const { service, logs } = receiver();
    const send = supertestSend(service.handler);
    await fc.assert(
      fc.asyncProperty(hostileRequest(), (r) => holds(send, r)),
      { numRuns: 300 },
    );
    expect(logs.text()).not.toContain('unhandled error');
  }, 120_000);

  it('valid payloads with hostile labels are accepted and recorded whole, exactly as sent', async () => {
    const { service } = receiver();
    const send = supertestSend(service.handler);
    await fc.assert(
      fc.asyncProperty(validWebhookRequest(), (r) => holds(send, r)),
      { numRuns: 150 },
    );
  }, 60_000);

  it.each(heavyRequests().map((r) => [r.kind, r] as const))('%s', async (_kind, r) => {
    const { service, logs } = receiver();
    await holds(supertestSend(service.handler), r);
    expect(logs.text()).not.toContain('unhandled error');
  });
});
