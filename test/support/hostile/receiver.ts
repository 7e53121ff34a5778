/**
 * A real `rollback-receiver serve` process for hostile input: both tokens set, dry-run, no
 * cluster, default body limit; and abuse below HTTP requests (bodies cut off, connections
 * dropped mid-body, bytes that are not HTTP) that only a real socket can send.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { Daemon } from '../daemon.js';
import { receiverProcess } from '../receiver-process.js';
import { OPERATOR_TOKEN, WEBHOOK_TOKEN } from './requests.js';

export async function startHostileReceiver(label: string): Promise<Daemon> {
  const d = await receiverProcess({ label, env: { ROLLBACK_WEBHOOK_TOKEN: WEBHOOK_TOKEN, ROLLBACK_OPERATOR_TOKEN: OPERATOR_TOKEN, ROLLBACK_DRY_RUN: 'true', LOG_LEVEL: 'warn' } });
  // No kubeconfig: no cluster; the receiver decides on its own state.
  fs.writeFileSync(d.file('config.yaml'), '');
  await d.start();
  return d;
}

/** Writes `bytes` on a fresh connection, then ends it (or destroys it mid-stream), and waits until the socket is closed. */
function raw(port: number, bytes: string, how: 'end' | 'destroy'): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(bytes);
      if (how === 'end') socket.end();
      else setTimeout(() => socket.destroy(), 20);
    });
    socket.on('data', () => undefined);
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.setTimeout(10_000, () => socket.destroy());
  });
}

/** Requests no well-behaved client sends. Returns how many were sent. */
export async function socketAbuse(port: number): Promise<number> {
  const head = (contentLength: number, path = '/webhook', token = WEBHOOK_TOKEN) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`;
  const cases: [string, 'end' | 'destroy'][] = [
    [head(1000) + '{"version":"4","alerts":[', 'end'],
    [head(1000) + '{"version":"4","alerts":[', 'destroy'],
    [head(5_000_000) + 'x'.repeat(100_000), 'destroy'],
    [head(2000, '/api/v1/freeze', OPERATOR_TOKEN).replace('POST', 'PUT') + '{"reason":', 'end'],
    [`POST /webhook HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${WEBHOOK_TOKEN}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"ver\r\nZZ\r\n`, 'end'],
    [`POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'end'],
    ['GARBAGE\r\n\r\n', 'end'],
    ['\u0000\u0001\u0002\r\n\r\n', 'end'],
    [`GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 'end'],
    [`GET /health/live HTTP/1.1\r\nHost: x\r\n${'X-Pad: y\r\n'.repeat(5000)}\r\n`, 'end'],
  ];
  for (const [bytes, how] of cases) await raw(port, bytes, how);
  return cases.length;
}
