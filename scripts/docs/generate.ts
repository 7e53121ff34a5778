/**
 * `npm run docs`: writes the generated reference docs. test/docs/docs.test.ts fails while
 * a file differs from what this makes, so the docs cannot drift from the code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliDoc } from './cli-doc.js';
import { configurationDoc } from './config-doc.js';
import { decisionsDoc } from './decisions-doc.js';
import { httpApiDoc } from './http-api-doc.js';
import { metricsDoc } from './metrics-doc.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Each generated file (relative to the repository) and what makes it. */
export const GENERATED_DOCS: Record<string, () => string | Promise<string>> = {
  'docs/configuration.md': configurationDoc,
  'docs/metrics.md': metricsDoc,
  'docs/decisions.md': decisionsDoc,
  'docs/http-api.md': httpApiDoc,
  'docs/cli.md': cliDoc,
};

async function main(): Promise<void> {
  for (const [file, make] of Object.entries(GENERATED_DOCS)) {
    const target = path.join(ROOT, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, await make());
    process.stdout.write(`wrote ${file}\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
