/** Reads a monitoring metric for a target through the Prometheus HTTP API, at the sample's time. */
import type { Target } from '../model.js';
import type { Reading } from './evaluate.js';
import type { MetricSpec, Sampler } from './monitor.js';
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

  query(metric: MetricSpec, target: Target): string {
    return renderQuery(metric.query, { namespace: target.namespace, name: target.name, deployment: target.name, window: this.settings.rateWindow });
  }

  async read(target: Target, metric: MetricSpec, at: number): Promise<Reading> {
    try {
      const result = await this.client.instant(this.query(metric, target), at);
      if (result.length === 0) return { value: null };
      // Several series (a template without aggregation): judge the worst one.
      return { value: Math.max(...result.map((s) => s.value)) };
    } catch (err) {
      return { value: null, error: (err as Error).message };
    }
  }
}
