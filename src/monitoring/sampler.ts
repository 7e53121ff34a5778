/** Reads a monitoring metric for a target through the Prometheus HTTP API, at the sample's time. */
import type { Reading } from './evaluate.js';
import type { MetricSpec, Sampler, Watched } from './monitor.js';
import { PrometheusClient, renderQuery } from './prometheus.js';
import type { MonitoringSettings } from './settings.js';

export class PrometheusSampler implements Sampler {
  readonly client: PrometheusClient;

  constructor(private readonly settings: MonitoringSettings) {
    this.client = new PrometheusClient({
      url: settings.prometheusUrl,
      bearerToken: settings.bearerToken,
      basicAuth: settings.basicAuth,
      timeoutMs: settings.timeoutMs,
    });
  }

  /**
   * The query for a sample at `at`. Its range ({window}) reaches back no further than the
   * window's start — else the first samples would judge the broken version the rollback
   * replaced — and at most rateWindow. (The monitor takes no sample before minRateWindow
   * has passed, so the range is never shorter than that.)
   */
  query(metric: MetricSpec, watched: Watched, at: number): string {
    const { rateWindowMs, minRateWindowMs } = this.settings;
    const rangeMs = Math.min(rateWindowMs, Math.max(minRateWindowMs, at - watched.since));
    return renderQuery(metric.query, {
      namespace: watched.namespace,
      name: watched.name,
      deployment: watched.deployment,
      window: `${Math.max(1, Math.round(rangeMs / 1000))}s`,
    });
  }

  async read(watched: Watched, metric: MetricSpec, at: number): Promise<Reading> {
    try {
      const result = await this.client.instant(this.query(metric, watched, at), at);
      if (result.length === 0) return { value: null };
      // Several series (a template without aggregation): judge the worst one.
      return { value: Math.max(...result.map((s) => s.value)) };
    } catch (err) {
      return { value: null, error: (err as Error).message };
    }
  }
}
