/** The release codec against releases encoded the way Helm encodes them (gzip and the older plain form). */
import { decodeRelease, encodeRelease, releaseFromSecretData, releaseSecret, releaseSecretName, secretDataValue } from '../../src/execution/helm/codec.js';
import type { HelmRelease } from '../../src/execution/helm/release.js';
import { configMap, decodeSecretData, releaseJson, releaseSecretFixture, type FixtureRevision } from './fixture.js';

const REV: FixtureRevision = { version: 3, status: 'deployed', description: 'Upgrade complete', appVersion: '3.0.0', manifest: configMap('c', { k: 'v' }) };
const dataOf = (rev: FixtureRevision) => (releaseSecretFixture('shop', 'prod', rev) as { data: { release: string } }).data.release;

describe('release codec', () => {
  it.each([
    ['gzipped (Helm 3)', false],
    ['plain (before Helm compressed releases)', true],
  ])('decodes a %s release with every field Helm wrote', (_name, plain) => {
    const release = releaseFromSecretData(dataOf({ ...REV, plain }));
    expect(release).toEqual(JSON.parse(releaseJson('shop', 'prod', REV)));
    expect(release).toMatchObject({ name: 'shop', namespace: 'prod', version: 3, info: { status: 'deployed', deleted: '' }, chart: { metadata: { appVersion: '3.0.0' } } });
  });

  it('encodes as Helm does: gzip under base64, base64 again in the Secret; fields it does not know survive', () => {
    const release = { ...(JSON.parse(releaseJson('shop', 'prod', REV)) as HelmRelease), apply_method: 'csa', future_field: { x: 1 } };
    const decoded = decodeSecretData(secretDataValue(release));
    expect(decoded.gzipped).toBe(true);
    expect(decoded.release).toEqual(release);
    expect(decodeRelease(encodeRelease(release))).toEqual(release);
  });

  it('encodes the same release to the same bytes (dry-run and live send equal requests)', () => {
    const release = JSON.parse(releaseJson('shop', 'prod', REV)) as HelmRelease;
    expect(encodeRelease(release)).toBe(encodeRelease(structuredClone(release)));
  });

  it('names what is wrong with data that is not a release', () => {
    const thrown = (() => {
      try {
        decodeRelease(Buffer.from('{"config":{"password":"hunter2"').toString('base64'));
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(thrown).toBe('release data is not JSON after base64'); // and quotes none of it
    expect(() => decodeRelease(Buffer.from('{"name":"shop"}').toString('base64'))).toThrow('release data is not a Helm release: version: ');
  });

  it('builds the Secret Helm stores a release in', () => {
    const release = JSON.parse(releaseJson('shop', 'prod', REV)) as HelmRelease;
    expect(releaseSecretName('shop', 12)).toBe('sh.helm.release.v1.shop.v12');
    expect(releaseSecret(release, { team: 'web', createdAt: '1700000000' })).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'sh.helm.release.v1.shop.v3',
        namespace: 'prod',
        labels: { team: 'web', createdAt: '1700000000', name: 'shop', owner: 'helm', status: 'deployed', version: '3' },
      },
      type: 'helm.sh/release.v1',
      data: { release: secretDataValue(release) },
    });
  });
});
