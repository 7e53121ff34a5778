/** A loopback HTTP server that records requests and answers with what the test says. */
import http from 'node:http';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | object;
  /** Never answer (the socket stays open until the server closes). */
  hang?: boolean;
}

export interface RecordingServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Sets the reply for the next requests (a function may decide per request). */
  reply(r: Reply | ((req: RecordedRequest) => Reply)): void;
  close(): Promise<void>;
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  let replyFn: (req: RecordedRequest) => Reply = () => ({
    body: { status: 'success', data: { resultType: 'vector', result: [] } },
  });
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const rec: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(rec);
      const r = replyFn(rec);
      if (r.hang) return;
      const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body ?? {});
      res.writeHead(r.status ?? 200, {
        'content-type': typeof r.body === 'string' ? 'text/plain' : 'application/json',
        ...r.headers,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply(r) {
      replyFn = typeof r === 'function' ? r : () => r;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
