/**
 * PrometheusClient and the default queries against a real Prometheus (harness.ts) that
 * scrapes the test exporter (exporter.ts) every second: the seed's four metrics come out
 * as the traffic and resources the test set, label values with quotes and backslashes
 * are matched literally, and Prometheus's failures map to the error kinds.
 */
import {
  DEFAULT_QUERIES,
  PrometheusClient,
  PrometheusError,
  defaultQuery,
  renderQuery,
  type Sample,
} from '../../src/monitoring/prometheus.js';
import { waitFor } from '../envtest/wait.js';
import { quantileOfConstant, startExporter, type Exporter } from './exporter.js';
import { startPrometheus, type RunningPrometheus } from './harness.js';

const WINDOW = '5s';
const MiB = 2 ** 20;
const NS = 'shop';
/** Quotes, backslashes and a regex metacharacter, in a deployment (and pod) label value. */
const WEIRD = 'we"ird\\dep.loy';
/** Matched by WEIRD's pod regex only if the '.' were not escaped. */
const WEIRD_DECOY = 'we"ird\\depXloy';
/** Control characters and non-ASCII. */
const CONTROL = 'multi\nline\ttab ünï✓';

let exporter: Exporter;
let prom: RunningPrometheus;
let client: PrometheusClient;

async function failure(p: Promise<unknown>): Promise<PrometheusError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PrometheusError) return e;
    throw e;
  }
  throw new Error('expected a PrometheusError, got success');
}

const near = (actual: number | undefined, expected: number, relTol: number) =>
  actual !== undefined && Math.abs(actual - expected) <= Math.abs(expected) * relTol;

async function one(query: string): Promise<number | undefined> {
  const samples = await client.instant(query);
  return samples.length === 1 ? samples[0]?.value : undefined;
}

type Values = Record<'error_rate' | 'response_time' | 'cpu_usage' | 'memory_usage', number | undefined>;
async function metrics(namespace: string, name: string): Promise<Values> {
  const [error_rate, response_time, cpu_usage, memory_usage] = await Promise.all(
    (['error_rate', 'response_time', 'cpu_usage', 'memory_usage'] as const).map((m) =>
      one(defaultQuery(m, { namespace, name }, WINDOW)),
    ),
  );
  return { error_rate, response_time, cpu_usage, memory_usage };
}

beforeAll(async () => {
  exporter = await startExporter();
  exporter.traffic({ namespace: NS, deployment: 'checkout', rps: 200, errorRatio: 0.2, clientErrorRatio: 0.1, latencySeconds: 0.3 });
  exporter.traffic({ namespace: NS, deployment: 'healthy', rps: 100, latencySeconds: 0.02 });
  exporter.traffic({ namespace: NS, deployment: 'idle', rps: 0 });
  exporter.traffic({ namespace: NS, deployment: WEIRD, rps: 100, errorRatio: 0.5, latencySeconds: 4 });
  exporter.traffic({ namespace: NS, deployment: WEIRD_DECOY, rps: 100, errorRatio: 0.9 });
  exporter.traffic({ namespace: NS, deployment: CONTROL, rps: 100, errorRatio: 0.1 });

  const GiB = 1024 * MiB;
  // checkout: worst CPU is pod b's app (0.7 of its limit), worst memory pod a's proxy (100/128).
  const a = 'checkout-5d4f8b7c9-abcde';
  exporter.container({ namespace: NS, pod: a, cpuCores: 0.5, cpuLimitCores: 1, memoryBytes: 300 * MiB, memoryLimitBytes: GiB });
  exporter.container({ namespace: NS, pod: a, container: 'proxy', cpuCores: 0.2, cpuLimitCores: 0.5, memoryBytes: 100 * MiB, memoryLimitBytes: 128 * MiB });
  exporter.container({ namespace: NS, pod: a, container: 'debug', cpuCores: 3, memoryBytes: 4 * GiB }); // no limits: left out
  exporter.container({ namespace: NS, pod: 'checkout-5d4f8b7c9-fghij', cpuCores: 0.7, cpuLimitCores: 1, memoryBytes: 512 * MiB, memoryLimitBytes: GiB });
  // Another Deployment whose name starts with "checkout-": its pods must not count.
  exporter.container({ namespace: NS, pod: 'checkout-worker-6c7d8e9f4-klmno', cpuCores: 0.99, cpuLimitCores: 1, memoryBytes: 0.99 * GiB, memoryLimitBytes: GiB });
  // Same pod name in another namespace: must not count either.
  exporter.container({ namespace: 'other', pod: a, cpuCores: 0.95, cpuLimitCores: 1, memoryBytes: 0.95 * GiB, memoryLimitBytes: GiB });
  exporter.container({ namespace: NS, pod: `${WEIRD}-7f8b9c6d5-pqrst`, cpuCores: 0.3, cpuLimitCores: 1, memoryBytes: 256 * MiB, memoryLimitBytes: GiB });
  exporter.container({ namespace: NS, pod: `${WEIRD_DECOY}-7f8b9c6d5-pqrst`, cpuCores: 0.9, cpuLimitCores: 1, memoryBytes: 900 * MiB, memoryLimitBytes: GiB });

  const t0 = Date.now();
  prom = await startPrometheus({ scrapeJobs: exporter.scrapeJobs() });
  await prom.waitForTargets(25_000);
  process.stderr.write(
    `[prometheus] ready in ${prom.startMs} ms, all targets scraped after ${Date.now() - t0} ms (${prom.url})\n`,
  );
  client = new PrometheusClient({ url: prom.url, timeoutMs: 5000 });
}, 30_000);

afterAll(async () => {
  await prom?.stop();
  await exporter?.close();
});

describe('default queries against a real Prometheus', () => {
  it('compute the seed metrics of a deployment as driven', async () => {
    const expected = {
      error_rate: 0.2,
      response_time: 1000 * quantileOfConstant(0.95, 0.3), // 487.5 ms
      cpu_usage: 0.7,
      memory_usage: 100 / 128,
    };
    const got = await waitFor(
      async () => {
        const v = await metrics(NS, 'checkout');
        return near(v.error_rate, expected.error_rate, 0.01) &&
          near(v.response_time, expected.response_time, 0.01) &&
          near(v.cpu_usage, expected.cpu_usage, 0.03) &&
          near(v.memory_usage, expected.memory_usage, 0.001)
          ? v
          : undefined;
      },
      15_000,
      { intervalMs: 250, description: `checkout metrics ≈ ${JSON.stringify(expected)}` },
    );
    expect(got.response_time).toBeCloseTo(487.5, 1);
  });

  it('give exactly 0 errors for a healthy deployment', async () => {
    await waitFor(
      async () => {
        const v = await metrics(NS, 'healthy');
        return v.error_rate === 0 && near(v.response_time, 1000 * quantileOfConstant(0.95, 0.02), 0.01);
      },
      10_000,
      { intervalMs: 250, description: 'healthy: error_rate 0, p95 24.25 ms' },
    );
  });

  it('give NaN (one sample) for a deployment without traffic, [] for one without series', async () => {
    await waitFor(
      async () => {
        const samples = await client.instant(defaultQuery('error_rate', { namespace: NS, name: 'idle' }, WINDOW));
        return samples.length === 1 && Number.isNaN(samples[0]?.value);
      },
      10_000,
      { intervalMs: 250, description: 'idle error_rate is NaN' },
    );
    for (const metric of Object.keys(DEFAULT_QUERIES) as Array<keyof typeof DEFAULT_QUERIES>) {
      expect(await client.instant(defaultQuery(metric, { namespace: NS, name: 'no-such-deployment' }, WINDOW))).toEqual(
        [],
      );
      expect(await client.instant(defaultQuery(metric, { namespace: 'no-such-ns', name: 'checkout' }, WINDOW))).toEqual(
        [],
      );
    }
  });

  it('match label values with quotes, backslashes and regex metacharacters literally', async () => {
    const expected = {
      error_rate: 0.5,
      response_time: 1000 * quantileOfConstant(0.95, 4), // 4875 ms: over the seed's 3000
      cpu_usage: 0.3,
      memory_usage: 0.25,
    };
    await waitFor(
      async () => {
        const v = await metrics(NS, WEIRD);
        return near(v.error_rate, expected.error_rate, 0.01) &&
          near(v.response_time, expected.response_time, 0.01) &&
          near(v.cpu_usage, expected.cpu_usage, 0.03) &&
          near(v.memory_usage, expected.memory_usage, 0.001)
          ? v
          : undefined;
      },
      10_000,
      { intervalMs: 250, description: `${WEIRD} metrics ≈ ${JSON.stringify(expected)}` },
    );
    const samples = await client.instant(
      renderQuery('http_requests_total{namespace="{namespace}",deployment="{name}",code="500"}', {
        namespace: NS,
        name: WEIRD,
      }),
    );
    expect(samples.map((s) => s.metric.deployment)).toEqual([WEIRD]);
    await waitFor(async () => near((await metrics(NS, CONTROL)).error_rate, 0.1, 0.01), 10_000, {
      intervalMs: 250,
      description: 'error_rate of a deployment label with a newline, a tab and non-ASCII',
    });
  });
});

describe('PrometheusClient against a real Prometheus', () => {
  it('reports a syntax error as kind query with Prometheus message', async () => {
    const err = await failure(client.instant('sum(rate(http_requests_total[5m])'));
    expect(err).toMatchObject({ kind: 'query', status: 400, errorType: 'bad_data' });
    expect(err.prometheusMessage).toMatch(/parse error: unclosed left parenthesis/);
    expect(err.message).toContain(err.prometheusMessage);
    const range = await failure(client.range('rate(', Date.now() - 60_000, Date.now(), 15));
    expect(range).toMatchObject({ kind: 'query', errorType: 'bad_data' });
  });

  it('reports an evaluation error as kind query (422 execution)', async () => {
    // many-to-many matching: several series per `namespace` on both sides.
    const err = await failure(client.instant('http_requests_total + on (namespace) http_requests_total'));
    expect(err).toMatchObject({ kind: 'query', status: 422, errorType: 'execution' });
    expect(err.prometheusMessage).toMatch(/many-to-many/);
  });

  it('reads NaN and infinities, scalar and vector', async () => {
    const [nan] = await client.instant('0/0');
    expect(nan?.value).toBeNaN();
    expect(nan?.metric).toEqual({});
    expect((await client.instant('vector(1)/0'))[0]?.value).toBe(Number.POSITIVE_INFINITY);
    expect((await client.instant('-vector(1)/0'))[0]?.value).toBe(Number.NEGATIVE_INFINITY);
    const at = Date.now() - 1000;
    const [s] = await client.instant('vector(time())', at);
    expect(s?.timestampMs).toBe(at);
    expect(s?.value).toBeCloseTo(at / 1000, 2);
  });

  it('refuses a range-vector expression in an instant query as kind query', async () => {
    const err = await failure(client.instant(`http_requests_total{namespace="${NS}"}[1m]`));
    expect(err.kind).toBe('query');
    expect(err.message).toMatch(/range vector/);
  });

  it('sends long queries (POST)', async () => {
    const names = Array.from({ length: 2000 }, (_, i) => `deployment-${i}`).concat('checkout');
    const query = `sum(http_requests_total{namespace="${NS}",deployment=~"${names.join('|')}"}) > 0`;
    expect(query.length).toBeGreaterThan(30_000);
    const samples: Sample[] = await client.instant(query);
    expect(samples).toHaveLength(1);
  });

  it('runs range queries', async () => {
    const query = defaultQuery('error_rate', { namespace: NS, name: 'checkout' }, WINDOW);
    await waitFor(
      async () => {
        const end = Date.now();
        const series = await client.range(query, end - 3000, end, 1);
        const values = series[0]?.values ?? [];
        return (
          series.length === 1 &&
          values.map((p) => p.timestampMs).join() === [end - 3000, end - 2000, end - 1000, end].join() &&
          values.every((p) => near(p.value, 0.2, 0.01))
        );
      },
      10_000,
      { intervalMs: 250, description: 'error_rate over the last 3 s, every second, ≈ 0.2' },
    );
  });
});

describe('an unavailable Prometheus', () => {
  it('is kind timeout while hung, unreachable while down, and answers again after a restart', async () => {
    const quick = new PrometheusClient({ url: prom.url, timeoutMs: 400 });
    const patient = new PrometheusClient({ url: prom.url, timeoutMs: 10_000 });
    prom.pause();
    try {
      const hung = await failure(quick.instant('vector(1)'));
      expect(hung).toMatchObject({ kind: 'timeout' });
      expect(hung.message).toContain('400 ms');
    } finally {
      prom.resume();
    }
    expect((await patient.instant('vector(1)'))[0]?.value).toBe(1);

    await prom.kill();
    const down = await failure(quick.instant('vector(1)'));
    expect(down).toMatchObject({ kind: 'unreachable', code: 'ECONNREFUSED' });
    expect(down.message).toContain(prom.url);

    await prom.restart();
    expect((await patient.instant('vector(1)'))[0]?.value).toBe(1);
    // What was scraped before the crash is still there (WAL replay).
    const [count] = await patient.instant(`count_over_time(http_requests_total{namespace="${NS}",code="500"}[1h])`);
    expect(count?.value).toBeGreaterThan(2);
  });
});
