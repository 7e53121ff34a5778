/** Replicas for a restored side when HPAs are involved (pure part; the reader runs in rollback.test.ts). */
import { restoredCapacity, targeting, type Hpa } from '../../src/execution/capacity.js';

const hpa = (name: string, target: string, opts: { min?: number; desired?: number; apiVersion?: string } = {}): Hpa => ({
  metadata: { name, namespace: 'prod' },
  spec: { scaleTargetRef: { apiVersion: opts.apiVersion ?? 'apps/v1', kind: 'Deployment', name: target }, minReplicas: opts.min, maxReplicas: 20 },
  status: opts.desired === undefined ? undefined : { desiredReplicas: opts.desired },
});

describe('HPA-aware capacity', () => {
  it('finds the HPAs scaling a workload by API group, kind and name', () => {
    const hpas = [hpa('a', 'web'), hpa('b', 'web', { apiVersion: 'extensions/v1beta1' }), hpa('c', 'api')];
    expect(targeting(hpas, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }).map((h) => h.metadata.name)).toEqual(['a']);
  });

  it("gives the restored side what the serving side's HPA wants", () => {
    expect(restoredCapacity({ replicas: 3, hpas: [hpa('web', 'web-blue', { min: 2, desired: 7 })] }, { hpas: [] })).toEqual({
      replicas: 7,
      reason: 'HorizontalPodAutoscaler web wants 7 replicas for the serving side',
    });
  });

  it("never goes below either side's minReplicas", () => {
    expect(restoredCapacity({ replicas: 3, hpas: [hpa('blue', 'web-blue', { min: 2, desired: 3 })] }, { hpas: [hpa('green', 'web-green', { min: 4 })] })).toEqual({
      replicas: 4,
      reason: 'HorizontalPodAutoscaler blue wants 3 replicas for the serving side; raised to minReplicas 4 of HorizontalPodAutoscaler green',
    });
  });

  it("uses the serving side's replicas when no HPA has said what it wants", () => {
    expect(restoredCapacity({ replicas: 3, hpas: [hpa('web', 'web-blue', { min: 1 })] }, { hpas: [] })).toEqual({ replicas: 3, reason: 'the serving side runs 3 replicas' });
    expect(restoredCapacity({ replicas: 0, hpas: [] }, { hpas: [hpa('web', 'web-green')] })).toEqual({
      replicas: 1,
      reason: 'the serving side runs 0 replicas; raised to minReplicas 1 of HorizontalPodAutoscaler web',
    });
  });
});
