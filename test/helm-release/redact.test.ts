/** Plans shown to people carry no Secret data. */
import { redactedRequest } from '../../src/execution/helm/redact.js';

describe('plan redaction', () => {
  it('replaces the data of release Secrets and of chart Secrets by their sizes', () => {
    expect(redactedRequest({ method: 'POST', path: '/api/v1/namespaces/prod/secrets', body: { kind: 'Secret', metadata: { name: 's' }, data: { release: 'abcd' } } })).toEqual({
      method: 'POST',
      path: '/api/v1/namespaces/prod/secrets',
      body: { kind: 'Secret', metadata: { name: 's' }, data: { release: '<redacted: 4 characters>' } },
    });
    const apply = redactedRequest({ method: 'PATCH', path: '/api/v1/namespaces/prod/secrets/db?fieldManager=helm&force=true', patchType: 'apply', body: { stringData: { password: 'hunter2' } } });
    expect(apply.body).toEqual({ stringData: { password: '<redacted: 7 characters>' } });
  });

  it('leaves every other request as it is', () => {
    const request = { method: 'PATCH' as const, path: '/api/v1/namespaces/prod/configmaps/secrets', body: { data: { a: 'b' } } };
    expect(redactedRequest(request)).toBe(request);
  });
});
