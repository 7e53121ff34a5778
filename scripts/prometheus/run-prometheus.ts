/**
 * Manual helper: start a throwaway Prometheus scraping the test exporter (with some
 * traffic for namespace "demo", deployment "web") and keep it running until Ctrl-C.
 *
 *   npx tsx scripts/prometheus/run-prometheus.ts [--error-ratio 0.2] [--latency 0.3]
 *
 * Prints one JSON line: { url, exporter, pid, tmpDir, startMs }. Point the receiver at it
 * with PROMETHEUS_URL=<url>. Also used by test/prometheus/harness.test.ts to prove that
 * nothing is left behind when the Node process is SIGKILLed.
 */
import { startExporter } from '../../test/prometheus/exporter.js';
import { startPrometheus } from '../../test/prometheus/harness.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) ? v : fallback;
}

const exporter = await startExporter();
exporter.traffic({
  namespace: 'demo',
  deployment: 'web',
  rps: 50,
  errorRatio: flag('--error-ratio', 0.01),
  latencySeconds: flag('--latency', 0.2),
});
exporter.container({
  namespace: 'demo',
  pod: 'web-5d4f8b7c9-abcde',
  cpuCores: 0.25,
  cpuLimitCores: 1,
  memoryBytes: 200 * 2 ** 20,
  memoryLimitBytes: 512 * 2 ** 20,
});
const prom = await startPrometheus({ scrapeJobs: exporter.scrapeJobs() });
process.stdout.write(
  `${JSON.stringify({ url: prom.url, exporter: exporter.url, pid: prom.pid(), tmpDir: prom.tmpDir, startMs: prom.startMs })}\n`,
);
if (process.stdout.isTTY) process.stdout.write('Ctrl-C to stop.\n');
const keepAlive = setInterval(() => undefined, 1 << 30);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    clearInterval(keepAlive);
    void Promise.all([prom.stop(), exporter.close()]).then(() => process.exit(0));
  });
}
