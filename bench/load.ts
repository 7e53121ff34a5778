/**
 * The load generator, run as its own process (`node --import tsx bench/load.ts '<json>'`)
 * so it never shares a CPU turn with the server it measures. autocannon with a body
 * built per request (distinct alerts); prints one JSON line with the result.
 */
import autocannon from 'autocannon';
import { bodyMaker } from './payload.js';

export interface LoadSpec {
  url: string;
  connections: number;
  durationSec: number;
  alertsPerWebhook: number;
  /** Fixed arrival rate (webhooks/s over all connections); absent: as fast as answered. */
  rate?: number;
  token?: string;
  /** Distinguishes the alerts of one run from another's against the same store. */
  salt: string;
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function main(spec: LoadSpec): Promise<LoadResult> {
  let seq = 0;
  const body = bodyMaker(spec.alertsPerWebhook, spec.salt);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (spec.token) headers.authorization = `Bearer ${spec.token}`;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.durationSec,
    overallRate: spec.rate,
    requests: [
      {
        method: 'POST',
        path: '/webhook',
        headers,
        setupRequest: (req) => ({ ...req, body: body(seq++) }),
      },
    ],
  });
  return {
    requests: result.requests.total,
    perSecond: result.requests.total / spec.durationSec,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

main(JSON.parse(process.argv[2]!) as LoadSpec).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (err: Error) => {
    process.stderr.write(`load generator failed: ${err.message}\n`);
    process.exit(1);
  },
);
