/** Target checks before anything reaches the API: the objects a strategy touches, namespaces, label selectors. */
import { labelSelector } from '../../src/kube/paths.js';
import { namespaceAllowed, touchedObjects } from '../../src/matching/target.js';
import { testConfig } from '../support/service.js';

describe('namespaces', () => {
  it('kube-system stays denied when a user replaces the deny list, unless explicitly allowed', () => {
    expect(namespaceAllowed('kube-system', { allow: [], deny: ['legacy'] })).toMatch(/never a target unless rollback.namespaces.allow lists it/);
    expect(namespaceAllowed('kube-system', { allow: ['kube-system'], deny: [] })).toBeUndefined();
    expect(namespaceAllowed('legacy', { allow: [], deny: ['legacy'] })).toMatch(/denied by rollback.namespaces.deny/);
    expect(namespaceAllowed('prod', { allow: [], deny: ['legacy'] })).toBeUndefined();
  });
});

describe('touched objects (the admission lock keys)', () => {
  const { execution } = testConfig('execution:\n  blueGreen: { colors: [a, b] }\n  scaleSwap: { currentSuffix: -new, previousSuffix: -old }\n');
  it.each([
    ['deployment-undo', ['Deployment:prod/api']],
    ['blue-green', ['Service:prod/api', 'Deployment:prod/api-a', 'Deployment:prod/api-b']],
    ['scale-swap', ['Deployment:prod/api-new', 'Deployment:prod/api-old']],
    ['helm', ['HelmRelease:prod/api']],
  ] as const)('%s', (strategy, objects) => {
    expect(touchedObjects({ namespace: 'prod', name: 'api' }, strategy, execution)).toEqual(objects);
  });
});

describe('label selectors', () => {
  it('carry matchLabels and every matchExpressions operator, so a selection is never wider than the object\'s own', () => {
    expect(
      labelSelector({
        matchLabels: { app: 'web', color: 'green' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['front', 'edge'] },
          { key: 'canary', operator: 'NotIn', values: ['true'] },
          { key: 'team', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,color=green,tier in (front,edge),canary notin (true),team,!legacy');
  });

  it('is empty for an empty selector (callers refuse to delete by it) and throws on an unknown operator', () => {
    expect(labelSelector({})).toBe('');
    expect(() => labelSelector({ matchExpressions: [{ key: 'a', operator: 'Near' }] })).toThrow(/unknown label selector operator "Near"/);
  });
});
