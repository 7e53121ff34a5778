/** The ledger keeps each target's last successful rollback (the reverted signal reads it on every replica). */
import type { Revision } from '../../src/model.js';
import { emptyTarget, reduceTarget, type TargetLedger } from '../../src/store/ledger.js';
import type { RollbackRecord } from '../../src/store/records.js';
import { StateIndex } from '../../src/store/state-index.js';

const target = { namespace: 'prod', name: 'api' };
const V1: Revision = { id: 'aaaaaaaaaaa1', number: 3, label: 'revision 3 (app:v1)', images: ['app:v1'] };
const V2: Revision = { id: 'bbbbbbbbbbb2', number: 4, label: 'revision 4 (app:broken)', images: ['app:broken'] };

function running(id: string, startedAt: number, over: Partial<RollbackRecord> = {}): RollbackRecord {
  return {
    id,
    ...target,
    strategy: 'deployment-undo',
    kind: 'automatic',
    status: 'running',
    reason: 'test',
    trigger: 'error_rate',
    decisionId: null,
    startedAt,
    finishedAt: null,
    dryRun: false,
    steps: [],
    objects: ['Deployment:prod/api'],
    pin: { from: V2, to: V1 },
    ...over,
  } as RollbackRecord;
}

function finish(l: TargetLedger, id: string, status: RollbackRecord['status'], at: number): void {
  reduceTarget(l, { type: 'rollback-finished', id, target, status, at, steps: [] });
}

describe('the last success on a target ledger', () => {
  it('is set when the running rollback finishes successfully: what it installed, how, and when', () => {
    const l = emptyTarget(target);
    reduceTarget(l, { type: 'rollback', record: running('r1', 1000) });
    expect(l.lastSuccess).toBeUndefined();
    finish(l, 'r1', 'success', 5000);
    expect(l.lastSuccess).toEqual({ rollbackId: 'r1', strategy: 'deployment-undo', installed: V1, at: 5000 });
  });

  it('is not set by a failed or escalated rollback, nor replaced by one', () => {
    const l = emptyTarget(target);
    reduceTarget(l, { type: 'rollback', record: running('r1', 1000) });
    finish(l, 'r1', 'success', 2000);
    reduceTarget(l, { type: 'rollback', record: running('r2', 3000) });
    finish(l, 'r2', 'failed', 4000);
    reduceTarget(l, { type: 'rollback', record: running('r3', 5000) });
    finish(l, 'r3', 'escalated', 6000);
    expect(l.lastSuccess?.rollbackId).toBe('r1');
  });

  it('comes from finished records too (a restore), the newest success winning whatever the order', () => {
    const l = emptyTarget(target);
    reduceTarget(l, { type: 'rollback', record: running('new', 3000, { status: 'success', finishedAt: 4000, strategy: 'blue-green' }) });
    reduceTarget(l, { type: 'rollback', record: running('old', 1000, { status: 'success', finishedAt: 2000 }) });
    reduceTarget(l, { type: 'rollback', record: running('dry', 5000, { status: 'dry_run', dryRun: true, finishedAt: 5000 }) });
    reduceTarget(l, { type: 'rollback', record: running('nopin', 6000, { status: 'success', finishedAt: 6000, pin: null }) });
    expect(l.lastSuccess).toEqual({ rollbackId: 'new', strategy: 'blue-green', installed: V1, at: 4000 });
  });

  it('a ledger written before the field existed loads without it, and gains it on the next success', () => {
    const old = JSON.parse(JSON.stringify({ target, attempts: [], running: running('r1', 1000), revisions: [], escalations: {} })) as TargetLedger;
    const root = new StateIndex();
    root.load({ targets: [old] });
    expect(root.lastSuccesses()).toEqual([]);
    const l = root.target(target);
    finish(l, 'r1', 'success', 2000);
    root.load({ targets: [l] });
    expect(root.lastSuccesses()).toEqual([{ target, last: expect.objectContaining({ rollbackId: 'r1', at: 2000 }) }]);
  });

  it('is restored from the last successes on record however old, apart from the recent rollbacks', () => {
    const root = StateIndex.restore({
      decided: [],
      rollbacks: [],
      lastSuccesses: [running('ancient', 10, { status: 'success', finishedAt: 20 })],
      pending: [],
      resets: [],
      escalations: [],
      revisions: [],
      freeze: null,
      brakeTrippedAt: undefined,
    });
    expect(root.lastSuccesses()).toEqual([{ target, last: { rollbackId: 'ancient', strategy: 'deployment-undo', installed: V1, at: 20 } }]);
    // The guards do not count it: it is not a recent attempt.
    expect(root.attemptsSince(target, 0)).toBe(0);
  });
});
