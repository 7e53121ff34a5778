/**
 * The reference docs cannot drift: the generated ones are exactly what `npm run docs`
 * makes from the code, the runbook covers every escalation reason, and every link in
 * the README and docs/ resolves inside the repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { CONFIG_KEYS } from '../../scripts/docs/config-keys.js';
import { configurationDoc } from '../../scripts/docs/config-doc.js';
import { GENERATED_DOCS, ROOT } from '../../scripts/docs/generate.js';
import { ESCALATION_REASONS } from '../../src/metrics.js';
import { basic, serviceFactory } from '../integration/helpers.js';

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

describe('generated docs', () => {
  test.each(Object.keys(GENERATED_DOCS))('%s is up to date (run `npm run docs`)', async (file) => {
    expect(read(file)).toBe(await GENERATED_DOCS[file]!());
  });

  it('configuration.md fails to generate while a key has no description, or a description no key', () => {
    const { 'rollback.cooldownPeriod': _gone, ...withoutOne } = CONFIG_KEYS;
    expect(() => configurationDoc(withoutOne)).toThrow('has no description for: rollback.cooldownPeriod');
    expect(() => configurationDoc({ ...CONFIG_KEYS, 'rollback.coolDown': 'a typo' })).toThrow('describes keys the schema does not have: rollback.coolDown');
  });
});

describe('hand-written docs', () => {
  it('the runbook has a section for every escalation reason', () => {
    const headings = read('docs/runbook.md').match(/^## `[a-z_]+`$/gm) ?? [];
    expect(headings.map((h) => h.slice(4, -1)).sort()).toEqual([...ESCALATION_REASONS].sort());
  });
});

describe('links', () => {
  const files = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).map((f) => `docs/${f}`)];

  it('no file of the repository points to files outside it', () => {
    const outside = ['..', 'shared', ''].join('/');
    const skip = new Set(['node_modules', 'dist', '.git', 'test-artifacts', 'data', 'coverage']);
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
        const rel = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!skip.has(entry.name)) walk(rel);
        } else if (/\.(ts|js|md|ya?ml|json|sh|go|tpl|txt)$|^Dockerfile$/.test(entry.name) && fs.readFileSync(path.join(ROOT, rel), 'utf8').includes(outside)) {
          offenders.push(rel);
        }
      }
    };
    walk('.');
    expect(offenders).toEqual([]);
  });

  it('the README links every document in docs/', () => {
    const readme = read('README.md');
    for (const doc of fs.readdirSync(path.join(ROOT, 'docs'))) expect([doc, readme.includes(`(docs/${doc})`)]).toEqual([doc, true]);
  });

  test.each(files)('every relative link in %s resolves to a file in the repository', (file) => {
    // Code spans and blocks are not links (a regex in a rule can look like one).
    const text = read(file).replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
    const links = [...text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    for (const link of links) {
      const target = path.resolve(ROOT, path.dirname(file), link);
      expect([link, target.startsWith(ROOT), fs.existsSync(target)]).toEqual([link, true, true]);
    }
  });
});

describe("the README's first steps", () => {
  const start = serviceFactory();

  it('examples/alert.json is decided dry_run, and the status page shows the decision with its reason', async () => {
    const { service } = start({ credentials: { operatorToken: 'change-me' } });
    const posted = await request(service.app).post('/webhook').set('Content-Type', 'application/json').send(read('examples/alert.json'));
    expect(posted.status).toBe(200);
    const [decision] = (posted.body as { decisions: { decision: string; reason: string; namespace: string; name: string }[] }).decisions;
    expect(decision).toMatchObject({ decision: 'dry_run', namespace: 'shop', name: 'checkout' });
    expect(read('README.md')).toContain(decision!.reason.split(';')[0]!);

    const page = await request(service.app).get('/').set('Authorization', basic('anyone', 'change-me'));
    expect(page.status).toBe(200);
    expect(page.text).toContain('<span class="decision tone-acted"');
    expect(page.text).toContain(decision!.reason);
    const again = await request(service.app).post('/webhook').set('Content-Type', 'application/json').send(read('examples/alert.json'));
    expect((again.body as { decisions: { decision: string }[] }).decisions[0]!.decision).toBe('duplicate');
  });
});
