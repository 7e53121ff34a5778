/** The reverted signal's pure check: the live revision against the one the receiver installed. */
import type { Revision } from '../../src/model.js';
import { revertedCheck, supersedes } from '../../src/monitoring/reverted.js';

const V1: Revision = { id: 'aaaaaaaaaaa1', number: 3, label: 'revision 3 (app:v1)', images: ['app:v1'] };
const V3: Revision = { id: 'ccccccccccc3', number: 4, label: 'revision 4 (app:v3)', images: ['app:v3'] };

describe('revertedCheck', () => {
  it('reverted while the workload serves what the receiver installed, by content (renumbering does not matter)', () => {
    expect(revertedCheck(V1, { ...V1, number: 7, label: 'revision 7 (app:v1)' }, undefined)).toBe('reverted');
  });
  it('moved on once it serves another revision', () => {
    expect(revertedCheck(V1, V3, undefined)).toBe('moved-on');
  });
  it('unknown when the cluster did not say: the gauge keeps its value', () => {
    expect(revertedCheck(V1, undefined, undefined)).toBe('unknown');
    expect(revertedCheck(V1, V3, 'Deployment prod/api: forbidden')).toBe('unknown');
  });
});

describe('supersedes', () => {
  const first = { rollbackId: 'r1', strategy: 'deployment-undo' as const, installed: V1, at: 1000 };
  it('a target not yet watched is watched for any success', () => {
    expect(supersedes(first, undefined)).toBe(true);
  });
  it('the same rollback read again changes nothing (a moved-on target stays 0)', () => {
    expect(supersedes({ ...first }, first)).toBe(false);
  });
  it('a newer rollback replaces an older one, never the other way round', () => {
    const second = { ...first, rollbackId: 'r2', installed: V3, at: 2000 };
    expect(supersedes(second, first)).toBe(true);
    expect(supersedes(first, second)).toBe(false);
  });
});
