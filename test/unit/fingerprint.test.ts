import { labelsFingerprint } from '../../src/intake/fingerprint.js';

describe('labelsFingerprint', () => {
  it('matches Prometheus model.LabelSet.Fingerprint', () => {
    // prometheus/common model/signature_test.go: 14695981039346656037 and 5799056148416392346, in hex.
    expect(labelsFingerprint({})).toBe(BigInt('14695981039346656037').toString(16));
    expect(labelsFingerprint({ name: 'garland, briggs', fear: 'love is not enough' })).toBe(BigInt('5799056148416392346').toString(16));
  });

  it('does not depend on key order', () => {
    expect(labelsFingerprint({ a: '1', b: '2' })).toBe(labelsFingerprint({ b: '2', a: '1' }));
    expect(labelsFingerprint({ a: '1', b: '2' })).not.toBe(labelsFingerprint({ a: '2', b: '1' }));
  });
});
