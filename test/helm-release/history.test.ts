/** `helm history` rows from the stored revisions. */
import { historyRows, releaseSecretsPath } from '../../src/execution/helm/history.js';
import { configMap, historyOf } from './fixture.js';

describe('release history', () => {
  it('lists revision, updated, status, chart, app version and description, oldest first', () => {
    const history = historyOf('web', 'prod', [
      { version: 1, status: 'superseded', description: 'Install complete', appVersion: '1.0', manifest: configMap('c', {}) },
      { version: 2, status: 'deployed', description: 'Upgrade complete', appVersion: '1.1', manifest: configMap('c', {}) },
    ]);
    expect(historyRows(history)).toEqual([
      { revision: 1, updated: '2024-05-01T10:00:00.123456789+02:00', status: 'superseded', chart: 'web-0.1.0', appVersion: '1.0', description: 'Install complete' },
      { revision: 2, updated: '2024-05-02T10:00:00.123456789+02:00', status: 'deployed', chart: 'web-0.2.0', appVersion: '1.1', description: 'Upgrade complete' },
    ]);
    delete history.revisions[0]!.release.chart;
    expect(historyRows(history)[0]).toMatchObject({ chart: 'MISSING', appVersion: 'MISSING' });
  });

  it("selects the release's Secrets as Helm does, and refuses names Helm refuses", () => {
    expect(releaseSecretsPath('prod', 'web')).toBe('/api/v1/namespaces/prod/secrets?labelSelector=owner%3Dhelm%2Cname%3Dweb');
    expect(() => releaseSecretsPath('prod', 'a'.repeat(54))).toThrow(/longer than 53 characters/);
    expect(() => releaseSecretsPath('prod', 'Web')).toThrow('release name "Web" is not a valid Kubernetes object name (RFC 1123 subdomain)');
  });
});
