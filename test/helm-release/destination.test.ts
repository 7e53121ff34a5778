/** Which revision a rollback restores: the safety rule for alerts, `helm rollback` semantics for operators. */
import { automaticDestination, contentId, eligibleDestinations, operatorDestination } from '../../src/execution/helm/destination.js';
import type { StoredRevision } from '../../src/execution/helm/release.js';
import { configMap, historyOf, type FixtureRevision } from './fixture.js';

const rev = (version: number, status: string, content: string): FixtureRevision => ({ version, status, description: '', appVersion: '1', manifest: configMap('c', { content }) });
// 4 rolled back to 2's content as 5; 3 failed; 6 is the current, deployed.
const HISTORY = historyOf('web', 'prod', [rev(1, 'superseded', 'a'), rev(2, 'superseded', 'b'), rev(3, 'failed', 'c'), rev(4, 'superseded', 'd'), rev(5, 'superseded', 'b'), rev(6, 'deployed', 'e')]);
const versions = (revs: StoredRevision[]) => revs.map((r) => r.release.version);
const version = (r: StoredRevision | string) => (typeof r === 'string' ? r : r.release.version);
const idOf = (v: number) => contentId(HISTORY.revisions[v - 1]!);

describe('rollback destinations', () => {
  it('lists older superseded or deployed revisions, newest first', () => {
    expect(versions(eligibleDestinations(HISTORY))).toEqual([5, 4, 2, 1]);
  });

  it('identifies revisions by content: a rollback re-numbers content, the identity stays', () => {
    expect(idOf(5)).toBe(idOf(2));
    expect(idOf(5)).not.toBe(idOf(4));
    expect(idOf(1)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('takes the newest eligible revision whose content is not bad', () => {
    expect(version(automaticDestination(HISTORY, () => false))).toBe(5);
    const bad = new Set([idOf(2), idOf(4)]);
    expect(version(automaticDestination(HISTORY, (id) => bad.has(id)))).toBe(1);
    expect(automaticDestination(HISTORY, () => true)).toBe('every earlier revision of release prod/web is bad or has the current content (revisions 5, 4, 2, 1)');
  });

  it("never picks the current revision's content", () => {
    const history = historyOf('web', 'prod', [rev(1, 'superseded', 'a'), rev(2, 'superseded', 'b'), rev(3, 'deployed', 'a')]);
    expect(version(automaticDestination(history, () => false))).toBe(2);
  });

  it('operators: none or 0 is the current revision − 1, else the revision named', () => {
    expect(version(operatorDestination(HISTORY))).toBe(5);
    expect(version(operatorDestination(HISTORY, 0))).toBe(5);
    expect(version(operatorDestination(HISTORY, 3))).toBe(3);
    expect(operatorDestination(HISTORY, 9)).toBe('release prod/web has no revision 9');
    expect(operatorDestination(HISTORY, -1)).toBe('revision -1 is not a revision number');
  });

  it('says so when there is no history', () => {
    const empty = historyOf('web', 'prod', []);
    expect(automaticDestination(empty, () => false)).toBe('release prod/web has no revisions');
    expect(operatorDestination(empty)).toBe('release prod/web has no revisions');
  });
});
