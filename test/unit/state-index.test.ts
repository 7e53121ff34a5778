/** The in-memory index: layers see their parent, merge only on commit, and are discarded otherwise. */
import { StateIndex } from '../../src/store/state-index.js';
import type { RollbackRecord } from '../../src/store/records.js';

const target = { namespace: 'prod', name: 'api' };

function rollback(id: string, startedAt: number, over: Partial<RollbackRecord> = {}): RollbackRecord {
  return {
    id,
    ...target,
    strategy: 'deployment-undo',
    kind: 'automatic',
    status: 'dry_run',
    reason: 'test',
    trigger: 'error_rate',
    decisionId: null,
    startedAt,
    finishedAt: startedAt,
    dryRun: true,
    steps: [],
    objects: ['Deployment:prod/api'],
    pin: null,
    ...over,
  };
}

describe('StateIndex', () => {
  it('a layer sees its parent and its own effects; the parent sees them only after merge', () => {
    const root = new StateIndex();
    root.apply({ type: 'rollback', record: rollback('a', 1000) });
    const layer = root.layer();
    layer.apply({ type: 'rollback', record: rollback('b', 2000) });
    expect(layer.lastRollbackAt(target)).toBe(2000);
    expect(layer.attemptsSince(target, 0)).toBe(2);
    expect(root.lastRollbackAt(target)).toBe(1000);
    layer.mergeIntoParent();
    expect(root.attemptsSince(target, 0)).toBe(2);
  });

  it('a discarded layer leaves no trace (a failed commit)', () => {
    const root = new StateIndex();
    const layer = root.layer();
    layer.apply({ type: 'freeze', freeze: { since: 1, reason: 'x' } });
    layer.apply({ type: 'brake-trip', at: 5 });
    expect(layer.freeze()).not.toBeNull();
    expect(root.freeze()).toBeNull();
    expect(root.brakeTrippedAt()).toBeUndefined();
  });

  it('resets hide earlier rollbacks from cooldown and retry counts, across layers', () => {
    const root = new StateIndex();
    root.apply({ type: 'rollback', record: rollback('a', 1000) });
    const layer = root.layer();
    layer.apply({ type: 'guard-reset', target, at: 1500 });
    expect(layer.lastRollbackAt(target)).toBeUndefined();
    expect(layer.attemptsSince(target, 0)).toBe(0);
    expect(layer.recentTargets(0).size).toBe(0);
    layer.apply({ type: 'rollback', record: rollback('b', 2000) });
    expect(layer.attemptsSince(target, 0)).toBe(1);
  });

  it('pending intents open and close through layers', () => {
    const root = new StateIndex();
    const pending = { id: 'p', key: 'k', trigger: 'cpu', target, strategy: 'deployment-undo' as const, firstSeenAt: 0, dueAt: 10 } as never;
    root.apply({ type: 'pending-open', pending });
    const layer = root.layer();
    layer.apply({ type: 'pending-close', key: 'k' });
    expect(layer.pending('k')).toBeUndefined();
    expect(layer.pendingIntents()).toHaveLength(0);
    expect(root.pendingIntents()).toHaveLength(1);
  });

  it('tracks running rollbacks by the objects they hold until they finish; manual ones do not count toward the brake', () => {
    const root = new StateIndex();
    const objects = ['Service:prod/api', 'Deployment:prod/api-blue'];
    root.apply({ type: 'rollback', record: rollback('r', 1000, { status: 'running', kind: 'manual', objects }) });
    expect(root.runningOn(['Deployment:prod/api-blue'])).toMatchObject({ id: 'r', startedAt: 1000 });
    expect(root.runningOn(['Deployment:prod/web'])).toBeUndefined();
    expect(root.running().map((r) => r.id)).toEqual(['r']);
    expect(root.rollbacksSince(0)).toBe(0);
    const layer = root.layer();
    layer.apply({ type: 'rollback-finished', id: 'r', target, status: 'success', at: 2000, steps: [] });
    expect(layer.runningOn(objects)).toBeUndefined();
    expect(layer.running()).toEqual([]);
    expect(layer.lastRollbackEnd(target)).toBe(2000);
    expect(root.runningOn(objects)?.id).toBe('r');
    expect(root.lastRollbackEnd(target)).toBeUndefined();
    layer.mergeIntoParent();
    expect(root.running()).toEqual([]);
  });

  it('revision marks are copied per target into a layer and merged on commit; clearing removes only bad ones', () => {
    const root = new StateIndex();
    const rev = (id: string) => ({ id, label: id, images: [] });
    root.apply({ type: 'revision-mark', target, mark: { revision: rev('a'), status: 'bad', since: 1, rollbackId: 'r1' } });
    const layer = root.layer();
    layer.apply({ type: 'revision-mark', target, mark: { revision: rev('b'), status: 'installed', since: 2, rollbackId: 'r1' } });
    layer.apply({ type: 'quarantine-clear', target, revisionId: null, at: 3 });
    expect([...layer.revisions(target).keys()]).toEqual(['b']);
    expect([...root.revisions(target).keys()]).toEqual(['a']);
    layer.mergeIntoParent();
    expect([...root.revisions(target).keys()]).toEqual(['b']);
    expect(root.revisionTargets()).toEqual([target]);
  });

  it('prunes marks older than the horizon', () => {
    const root = new StateIndex();
    root.apply({ type: 'rollback', record: rollback('a', 1000) });
    root.apply({ type: 'rollback', record: rollback('b', 5000) });
    root.prune(2000);
    expect(root.attemptsSince(target, 0)).toBe(1);
  });
});
