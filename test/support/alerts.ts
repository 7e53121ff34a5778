/** Alertmanager v4 payloads as Alertmanager sends them, for tests. */
export interface AlertSpec {
  status?: 'firing' | 'resolved';
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  fingerprint?: string;
}

let counter = 0;

export function alert(spec: AlertSpec = {}): Record<string, unknown> {
  counter += 1;
  const labels = {
    alertname: 'HighErrorRate',
    rollback_trigger: 'error_rate',
    namespace: 'prod',
    deployment: 'api',
    severity: 'critical',
    ...spec.labels,
  };
  return {
    status: spec.status ?? 'firing',
    labels,
    annotations: spec.annotations ?? { summary: 'error rate above 10%', description: '5xx ratio 0.23 over 5m' },
    startsAt: spec.startsAt ?? '2026-11-27T06:58:00.123456789Z',
    endsAt: spec.status === 'resolved' ? '2026-11-27T07:10:00Z' : '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=job%3Aerror_rate%3Aratio5m+%3E+0.1',
    fingerprint: spec.fingerprint ?? counter.toString(16).padStart(16, '0'),
  };
}

export function payload(alerts: Record<string, unknown>[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const first = alerts[0] as { labels?: Record<string, string>; status?: string } | undefined;
  return {
    version: '4',
    groupKey: '{}/{rollback_trigger=~".+"}:{alertname="HighErrorRate"}',
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'rollback-receiver',
    groupLabels: { alertname: first?.labels?.alertname ?? 'HighErrorRate' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts,
    ...extra,
  };
}
