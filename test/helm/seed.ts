/**
 * The Helm values blocks of the seed operations document (rollback-procedures.md),
 * kept verbatim in test/fixtures/seed-helm-values.yaml so the repo tests itself: `rollback:`
 * (Automated Rollback > Configuration) and `monitoring.enhanced` (Monitoring After
 * Rollback). The chart must take both unchanged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './chart.js';

export const SEED_DOC = path.resolve(ROOT, 'test/fixtures/seed-helm-values.yaml');

export interface SeedBlock {
  /** The fenced block's text, exactly as in the document. */
  text: string;
  value: Record<string, unknown>;
}

function yamlBlocks(): SeedBlock[] {
  const doc = fs.readFileSync(SEED_DOC, 'utf8').replace(/^(#.*\n)+/, '');
  return doc.split(/^---\n/m).map((text) => ({ text, value: parse(text) as Record<string, unknown> }));
}

/** The document's block whose only top-level key is `key`. */
export function seedBlock(key: 'rollback' | 'monitoring'): SeedBlock {
  const found = yamlBlocks().filter((b) => b.value && Object.keys(b.value).length === 1 && key in b.value);
  if (found.length !== 1) throw new Error(`expected one \`${key}:\` yaml block in ${SEED_DOC}, found ${found.length}`);
  return found[0]!;
}
