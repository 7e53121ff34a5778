/**
 * Alertmanager 0.25 webhook payloads (version 4) as the bench sends them: every alert of
 * every webhook distinct (its own fingerprint), so each one is decided and written, never
 * answered from the dedup index alone.
 */
export interface AlertSpec {
  fingerprint: string;
  namespace: string;
  deployment: string;
  trigger?: string;
  startsAt?: string;
}

export function webhookPayload(alerts: AlertSpec[]): string {
  return JSON.stringify({
    version: '4',
    groupKey: '{}/{rollback_trigger=~".+"}:{alertname="HighErrorRate"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'rollback-receiver',
    groupLabels: { alertname: 'HighErrorRate' },
    commonLabels: { alertname: 'HighErrorRate', severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: alerts.map((a) => ({
      status: 'firing',
      labels: {
        alertname: 'HighErrorRate',
        namespace: a.namespace,
        deployment: a.deployment,
        prometheus: 'monitoring/k8s',
        rollback_trigger: a.trigger ?? 'error_rate',
        severity: 'critical',
      },
      annotations: { summary: `Error rate above 10% for ${a.namespace}/${a.deployment}`, runbook_url: 'https://runbooks.example.com/high-error-rate' },
      startsAt: a.startsAt ?? '2026-12-01T10:00:00.123456789Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus-k8s-0:9090/graph?g0.expr=job%3Ahttp_errors%3Aratio5m+%3E+0.1',
      fingerprint: a.fingerprint,
    })),
  });
}

/**
 * A body maker for `count` distinct alerts per webhook, cheap enough for the load
 * generator (which shares the machine with the server): the JSON is built once with
 * markers, and each call only splices in the fingerprints and target names.
 */
export function bodyMaker(count: number, salt: string): (seq: number) => string {
  const FP = '\u0000fp\u0000';
  const DEP = '\u0000dep\u0000';
  const template = webhookPayload(Array.from({ length: count }, () => ({ fingerprint: FP, namespace: 'prod', deployment: DEP })));
  const parts = template.split(/\\u0000(?:fp|dep)\\u0000/);
  const kinds = [...template.matchAll(/\\u0000(fp|dep)\\u0000/g)].map((m) => m[1]);
  return (seq) => {
    let out = parts[0]!;
    let slot = 0;
    for (let i = 0; i < kinds.length; i++) {
      // Each alert names its target (label, summary) before its fingerprint, which ends it.
      const n = seq * count + slot;
      if (kinds[i] === 'fp') slot++;
      out += (kinds[i] === 'fp' ? `${salt}${n.toString(16).padStart(12, '0')}` : `svc-${n % 1000}`) + parts[i + 1]!;
    }
    return out;
  };
}

/** `count` distinct alerts for webhook number `seq` (1,000 targets, so guards see many workloads). */
export function distinctAlerts(seq: number, count: number, salt: string): AlertSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const n = seq * count + i;
    return { fingerprint: `${salt}${n.toString(16).padStart(12, '0')}`, namespace: 'prod', deployment: `svc-${n % 1000}` };
  });
}
