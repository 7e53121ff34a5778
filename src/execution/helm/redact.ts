/**
 * A helm plan carries Secret data: the release Secrets hold the release's values (`config`),
 * and a chart's own Secrets their keys. Plans are shown (dry-run, API, reports) through this:
 * the requests as sent, with every Secret data value replaced by its size.
 */
import type { ApiRequest } from '../../kube/client.js';

const SECRETS_PATH = /^\/api\/v1\/namespaces\/[^/]+\/secrets(\/|\?|$)/;

function redactedValues(values: unknown): unknown {
  if (typeof values !== 'object' || values === null) return values;
  return Object.fromEntries(Object.entries(values).map(([key, v]) => [key, `<redacted: ${String(v).length} characters>`]));
}

export function redactedRequest<R extends Pick<ApiRequest, 'path' | 'body'>>(request: R): R {
  const body = request.body as { data?: unknown; stringData?: unknown } | undefined;
  if (!SECRETS_PATH.test(request.path) || typeof body !== 'object' || body === null) return request;
  return {
    ...request,
    body: {
      ...body,
      ...('data' in body ? { data: redactedValues(body.data) } : {}),
      ...('stringData' in body ? { stringData: redactedValues(body.stringData) } : {}),
    },
  };
}
