/**
 * The baselines the receiver is compared with, in the same run, behind the same load:
 * `bare` (node:http reads the body, answers 200) and `express` (express.json() parses
 * it, answers 200). Run as its own process: `node --import tsx bench/baseline-server.ts bare|express PORT`.
 */
import express from 'express';
import http from 'node:http';

const [kind, port] = [process.argv[2], Number(process.argv[3])];

function bare(): http.Server {
  return http.createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
}

function expressApp(): http.Server {
  const app = express();
  app.use(express.json({ limit: '10mb' }));
  app.get('/ready', (_req, res) => {
    res.status(200).json({});
  });
  app.post('/webhook', (_req, res) => {
    res.status(200).json({});
  });
  return http.createServer(app);
}

const server = kind === 'bare' ? bare() : kind === 'express' ? expressApp() : undefined;
if (!server) {
  process.stderr.write(`unknown baseline ${kind} (bare or express)\n`);
  process.exit(2);
}
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening on ${port}\n`));
