/**
 * A loopback metrics exporter that tests drive, for a real Prometheus to scrape
 * (harness.ts). Three endpoints, each with its own prom-client Registry, standing in
 * for the three sources a real cluster has:
 *
 * - `/metrics` — the application (what relabelled app metrics look like):
 *     http_requests_total{namespace,deployment,code}                counter
 *     http_request_duration_seconds_bucket{namespace,deployment,le} histogram
 * - `/metrics/cadvisor` — the kubelet's cAdvisor (names and labels as cAdvisor has them):
 *     container_cpu_usage_seconds_total{namespace,pod,container,image}  counter
 *     container_memory_working_set_bytes{namespace,pod,container,image} gauge
 *   including the pod-level cgroup series (container="") that real cAdvisor exposes too.
 * - `/ksm/metrics` — kube-state-metrics v2:
 *     kube_pod_container_resource_limits{namespace,pod,container,node,resource,unit} gauge
 *
 * traffic() sets a steady request rate that a background timer turns into counter
 * increments every ~100 ms (from the real elapsed time), so rate() over any window gives
 * the intended ratios; container() sets CPU usage (as a counter growing at the given
 * cores), memory and limits.
 */
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ScrapeJob } from './harness.js';

/** Prometheus's and prom-client's default buckets. */
export const DEFAULT_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface TrafficSpec {
  namespace: string;
  deployment: string;
  /** Requests per second; 0 stops the traffic (the series stay, flat). */
  rps: number;
  /** Share of requests answered 500. Default 0. */
  errorRatio?: number;
  /** Share of requests answered 404 (not server errors). Default 0. */
  clientErrorRatio?: number;
  /** Every request takes this long. Default 0.05. */
  latencySeconds?: number;
}

export interface ContainerSpec {
  namespace: string;
  pod: string;
  /** Default 'app'. */
  container?: string;
  /** CPU used, in cores (rate of container_cpu_usage_seconds_total). */
  cpuCores?: number;
  /** kube_pod_container_resource_limits{resource="cpu"}; omitted: no limit series. */
  cpuLimitCores?: number;
  memoryBytes?: number;
  /** kube_pod_container_resource_limits{resource="memory"}; omitted: no limit series. */
  memoryLimitBytes?: number;
}

export interface Exporter {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT, for scrape configs. */
  readonly target: string;
  /** Scrape jobs for startPrometheus: app, kubelet (cAdvisor path), kube-state-metrics. */
  scrapeJobs(): ScrapeJob[];
  traffic(spec: TrafficSpec): void;
  container(spec: ContainerSpec): void;
  /** Drops a container's series (and the pod-level ones when it was the pod's last container). */
  removeContainer(namespace: string, pod: string, container?: string): void;
  /** Scrapes served so far, per path. */
  scrapes(path?: string): number;
  close(): Promise<void>;
}

export interface ExporterOptions {
  /** Histogram buckets of http_request_duration_seconds. Default {@link DEFAULT_LATENCY_BUCKETS}. */
  buckets?: number[];
  /** Timer period. Default 100 ms. */
  tickMs?: number;
}

/**
 * What histogram_quantile(q, ...) returns when every observation equals `value`: linear
 * interpolation inside the bucket holding it (lower bound 0 for the first bucket).
 */
export function quantileOfConstant(q: number, value: number, buckets = DEFAULT_LATENCY_BUCKETS): number {
  const sorted = [...buckets].sort((a, b) => a - b);
  const i = sorted.findIndex((le) => value <= le);
  if (i < 0) return sorted[sorted.length - 1] ?? Number.NaN; // +Inf bucket: the highest finite bound
  const upper = sorted[i] ?? 0;
  const lower = i === 0 ? 0 : (sorted[i - 1] ?? 0);
  return lower + (upper - lower) * q;
}

interface TrafficState extends Required<TrafficSpec> {
  pendingObservations: number;
}

interface ContainerState extends Required<Pick<ContainerSpec, 'namespace' | 'pod' | 'container'>> {
  cpuCores: number;
}

const key = (...parts: string[]) => JSON.stringify(parts);
const CADVISOR_PATH = '/metrics/cadvisor';
const KSM_PATH = '/ksm/metrics';

export async function startExporter(opts: ExporterOptions = {}): Promise<Exporter> {
  const app = new Registry();
  const cadvisor = new Registry();
  const ksm = new Registry();

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by status code.',
    labelNames: ['namespace', 'deployment', 'code'] as const,
    registers: [app],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency.',
    labelNames: ['namespace', 'deployment'] as const,
    buckets: opts.buckets ?? DEFAULT_LATENCY_BUCKETS,
    registers: [app],
  });
  const cpu = new Counter({
    name: 'container_cpu_usage_seconds_total',
    help: 'Cumulative cpu time consumed in seconds.',
    labelNames: ['namespace', 'pod', 'container', 'image'] as const,
    registers: [cadvisor],
  });
  const memory = new Gauge({
    name: 'container_memory_working_set_bytes',
    help: 'Current working set of the container in bytes.',
    labelNames: ['namespace', 'pod', 'container', 'image'] as const,
    registers: [cadvisor],
  });
  const limits = new Gauge({
    name: 'kube_pod_container_resource_limits',
    help: 'The number of requested limit resource by a container.',
    labelNames: ['namespace', 'pod', 'container', 'node', 'resource', 'unit'] as const,
    registers: [ksm],
  });

  const traffic = new Map<string, TrafficState>();
  const containers = new Map<string, ContainerState>();
  const memoryOf = new Map<string, number>();
  const scrapeCount = new Map<string, number>();
  const image = (c: string) => `registry.example/${c}:1.0.0`;

  const podMemory = (namespace: string, pod: string): number => {
    let total = 0;
    for (const c of containers.values()) {
      if (c.namespace === namespace && c.pod === pod) total += memoryOf.get(key(namespace, pod, c.container)) ?? 0;
    }
    return total;
  };

  let last = Date.now();
  const tick = () => {
    const now = Date.now();
    const dt = (now - last) / 1000;
    last = now;
    if (dt <= 0) return;
    for (const t of traffic.values()) {
      if (t.rps <= 0) continue;
      const n = t.rps * dt;
      const labels = { namespace: t.namespace, deployment: t.deployment };
      const errors = n * t.errorRatio;
      const clientErrors = n * t.clientErrorRatio;
      requests.inc({ ...labels, code: '500' }, errors);
      requests.inc({ ...labels, code: '404' }, clientErrors);
      requests.inc({ ...labels, code: '200' }, Math.max(0, n - errors - clientErrors));
      t.pendingObservations += n;
      const whole = Math.floor(t.pendingObservations);
      t.pendingObservations -= whole;
      for (let i = 0; i < whole; i++) duration.observe(labels, t.latencySeconds);
    }
    const podCpu = new Map<string, number>();
    for (const c of containers.values()) {
      const used = c.cpuCores * dt;
      cpu.inc({ namespace: c.namespace, pod: c.pod, container: c.container, image: image(c.container) }, used);
      const pk = key(c.namespace, c.pod);
      podCpu.set(pk, (podCpu.get(pk) ?? 0) + used);
    }
    // The pod-level cgroup (container="", no image), as cAdvisor reports it: the sum.
    for (const [pk, used] of podCpu) {
      const [namespace = '', pod = ''] = JSON.parse(pk) as string[];
      cpu.inc({ namespace, pod, container: '', image: '' }, used);
    }
  };
  const timer = setInterval(tick, opts.tickMs ?? 100);
  timer.unref();

  const registries: Record<string, Registry> = { '/metrics': app, [CADVISOR_PATH]: cadvisor, [KSM_PATH]: ksm };
  const server = http.createServer((req, res) => {
    const p = (req.url ?? '/').split('?')[0] ?? '/';
    const reg = registries[p];
    req.resume();
    if (req.method !== 'GET' || !reg) {
      res.writeHead(404).end('not found\n');
      return;
    }
    tick(); // counters up to date at scrape time
    scrapeCount.set(p, (scrapeCount.get(p) ?? 0) + 1);
    reg.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': reg.contentType });
        res.end(text);
      },
      (e: unknown) => {
        res.writeHead(500).end(String(e));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const target = `127.0.0.1:${port}`;

  return {
    url: `http://${target}`,
    target,
    scrapeJobs: () => [
      { jobName: 'app', targets: [target] },
      { jobName: 'kubelet', targets: [target], metricsPath: CADVISOR_PATH, labels: { metrics_path: CADVISOR_PATH } },
      { jobName: 'kube-state-metrics', targets: [target], metricsPath: KSM_PATH, honorLabels: true },
    ],
    traffic(spec) {
      tick(); // account the elapsed time at the old rate first
      const k = key(spec.namespace, spec.deployment);
      const errorRatio = spec.errorRatio ?? 0;
      const clientErrorRatio = spec.clientErrorRatio ?? 0;
      if (errorRatio < 0 || clientErrorRatio < 0 || errorRatio + clientErrorRatio > 1 || spec.rps < 0) {
        throw new RangeError(`exporter: bad traffic spec ${JSON.stringify(spec)}`);
      }
      const labels = { namespace: spec.namespace, deployment: spec.deployment };
      // Create every series at once (value 0), so rate() ratios are exact from the start.
      for (const code of ['200', '404', '500']) requests.inc({ ...labels, code }, 0);
      duration.zero(labels);
      traffic.set(k, {
        namespace: spec.namespace,
        deployment: spec.deployment,
        rps: spec.rps,
        errorRatio,
        clientErrorRatio,
        latencySeconds: spec.latencySeconds ?? 0.05,
        pendingObservations: traffic.get(k)?.pendingObservations ?? 0,
      });
    },
    container(spec) {
      tick();
      const container = spec.container ?? 'app';
      const k = key(spec.namespace, spec.pod, container);
      const prev = containers.get(k);
      containers.set(k, {
        namespace: spec.namespace,
        pod: spec.pod,
        container,
        cpuCores: spec.cpuCores ?? prev?.cpuCores ?? 0,
      });
      const base = { namespace: spec.namespace, pod: spec.pod };
      cpu.inc({ ...base, container, image: image(container) }, 0);
      cpu.inc({ ...base, container: '', image: '' }, 0);
      if (spec.memoryBytes !== undefined) memoryOf.set(k, spec.memoryBytes);
      memory.set({ ...base, container, image: image(container) }, memoryOf.get(k) ?? 0);
      memory.set({ ...base, container: '', image: '' }, podMemory(spec.namespace, spec.pod));
      const limitLabels = { ...base, container, node: 'node-1' };
      if (spec.cpuLimitCores !== undefined) limits.set({ ...limitLabels, resource: 'cpu', unit: 'core' }, spec.cpuLimitCores);
      if (spec.memoryLimitBytes !== undefined) {
        limits.set({ ...limitLabels, resource: 'memory', unit: 'byte' }, spec.memoryLimitBytes);
      }
    },
    removeContainer(namespace, pod, container = 'app') {
      tick();
      const k = key(namespace, pod, container);
      containers.delete(k);
      memoryOf.delete(k);
      const base = { namespace, pod };
      cpu.remove({ ...base, container, image: image(container) });
      memory.remove({ ...base, container, image: image(container) });
      limits.remove({ ...base, container, node: 'node-1', resource: 'cpu', unit: 'core' });
      limits.remove({ ...base, container, node: 'node-1', resource: 'memory', unit: 'byte' });
      const podLeft = [...containers.values()].some((c) => c.namespace === namespace && c.pod === pod);
      if (podLeft) memory.set({ ...base, container: '', image: '' }, podMemory(namespace, pod));
      else {
        cpu.remove({ ...base, container: '', image: '' });
        memory.remove({ ...base, container: '', image: '' });
      }
    },
    scrapes(p = '/metrics') {
      return scrapeCount.get(p) ?? 0;
    },
    async close() {
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
