/**
 * The Dockerfile's invariants, checked by parsing it (no Docker engine and no registry
 * here): multi-stage on the NODE_IMAGE build argument, whose default is node:20-bookworm-slim
 * pinned by digest (the reference's form is checked; the digest cannot be resolved here),
 * OCI labels, a non-root numeric USER in the final stage, no
 * devDependencies in the final image, nothing from the build stage but dist/ and the
 * package files, a node-based HEALTHCHECK on /health/live, and an ENTRYPOINT file that
 * `npm run build` really produces.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name: string;
  /** The FROM image as written (e.g. ${NODE_IMAGE}), and with the global ARG defaults filled in. */
  image: string;
  from: string;
  instructions: Instruction[];
}

/** Parses a Dockerfile: comments dropped, continuation lines joined, instructions grouped by stage. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && /^\s*#/.test(line)) continue;
    if (current !== '' && /^\s*#/.test(line)) continue; // comment inside a continuation
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const l of logical) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(l) ?? [];
    const kw = keyword.toUpperCase();
    if (kw === 'FROM') {
      const m = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
      const from = m[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a?: string, b?: string) => args[(a ?? b)!] ?? '');
      stages.push({ name: m[2] ?? String(stages.length), image: m[1]!, from, instructions: [] });
    } else if (kw === 'ARG' && stages.length === 0) {
      const [k, v = ''] = rest.split('=');
      args[k!.trim()] = v.trim();
    } else if (stages.length > 0) {
      stages[stages.length - 1]!.instructions.push({ keyword: kw, args: rest });
    }
  }
  return { args, stages };
}

const { args, stages } = parseDockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string };
const final = stages[stages.length - 1]!;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const one = (stage: Stage, keyword: string) => {
  const found = all(stage, keyword);
  expect([keyword, found.length]).toEqual([keyword, 1]);
  return found[0]!.args;
};
const exec = (json: string) => JSON.parse(json) as string[];
const workdir = (stage: Stage) => all(stage, 'WORKDIR').at(-1)?.args ?? '/';

interface CopyFrom {
  from: string;
  sources: string[];
  dest: string;
}
function copiesFrom(stage: Stage): CopyFrom[] {
  return all(stage, 'COPY').flatMap((c) => {
    const from = /--from=(\S+)/.exec(c.args)?.[1];
    if (!from) return [];
    const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    return [{ from, sources: parts.slice(0, -1), dest: parts.at(-1)! }];
  });
}

/** npm commands that install packages, in a stage's RUN instructions. */
function npmInstalls(stage: Stage): string[] {
  return all(stage, 'RUN').flatMap((r) => r.args.split(/&&|;/).map((c) => c.trim()).filter((c) => /^npm\s+(ci|install|i)\b/.test(c)));
}

/** The only base the tests prove: Node.js 20 on Debian bookworm, by an immutable digest. */
const PINNED_NODE_20 = /^node:20-bookworm-slim@sha256:[0-9a-f]{64}$/;

test('multi-stage, every stage FROM the NODE_IMAGE build argument, whose default is node:20-bookworm-slim pinned by digest', () => {
  expect(stages.length).toBeGreaterThanOrEqual(2);
  expect(args.NODE_IMAGE).toMatch(PINNED_NODE_20);
  for (const s of stages) expect([s.name, s.image, s.from]).toEqual([s.name, '${NODE_IMAGE}', args.NODE_IMAGE]);
  expect(stages.map((s) => s.name)).toEqual(expect.arrayContaining(['build', 'runtime']));
});

/** LABEL key="value" pairs of a stage. */
function labels(stage: Stage): Record<string, string> {
  return Object.fromEntries(all(stage, 'LABEL').flatMap((l) => [...l.args.matchAll(/([\w.-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])));
}

test('the final image carries the OCI labels; version, revision and base come from build arguments declared in the stage', () => {
  const l = labels(final);
  expect(l).toEqual({
    'org.opencontainers.image.title': 'rollback-receiver',
    'org.opencontainers.image.description': expect.stringMatching(/rollbacks/),
    'org.opencontainers.image.version': '${VERSION}',
    'org.opencontainers.image.revision': '${REVISION}',
    'org.opencontainers.image.licenses': pkg.license,
    'org.opencontainers.image.base.name': '${NODE_IMAGE}',
  });
  // A global ARG is empty inside a stage unless the stage declares it again.
  const declared = all(final, 'ARG').map((a) => a.args.split('=')[0]!.trim());
  const used = Object.values(l).flatMap((v) => [...v.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!));
  expect(used.filter((a) => !declared.includes(a))).toEqual([]);
  for (const a of used) expect(Object.keys(args)).toContain(a);
  expect(args.VERSION).toBe(pkg.version);
});

test("the README documents the default base image, the supported Node.js versions and the one the tests prove", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain(args.NODE_IMAGE);
  expect(readme).toMatch(/Node\.js 20[^.]*end of life in April 2026/);
  expect(readme).toMatch(/tests (run on|prove) Node\.js 20/);
  expect(process.versions.node.split('.')[0]).toBe('20');
});

test('the build stage installs everything and runs npm run build', () => {
  const build = stages.find((s) => s.name === 'build')!;
  expect(npmInstalls(build)).toEqual(['npm ci --no-audit --no-fund']);
  expect(all(build, 'RUN').some((r) => r.args.trim() === 'npm run build')).toBe(true);
});

test('the final stage runs as a non-root numeric USER', () => {
  const user = one(final, 'USER');
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  expect(m).not.toBeNull();
  expect(Number(m![1])).toBeGreaterThan(0);
  if (m![2] !== undefined) expect(Number(m![2])).toBeGreaterThan(0);
  // Nothing after USER switches back to root.
  const after = final.instructions.slice(final.instructions.findIndex((i) => i.keyword === 'USER') + 1);
  expect(after.filter((i) => i.keyword === 'USER')).toEqual([]);
});

test('no devDependencies reach the final image', () => {
  // The final stage installs nothing itself, or only with --omit=dev.
  for (const cmd of npmInstalls(final)) expect(cmd).toMatch(/--omit=dev\b/);
  // node_modules come only from stages whose every install is `npm ci --omit=dev` (install scripts on: better-sqlite3 builds its native module).
  const modules = copiesFrom(final).filter((c) => c.sources.some((s) => /node_modules/.test(s)));
  expect(modules.length + npmInstalls(final).length).toBeGreaterThan(0);
  for (const c of modules) {
    const stage = stages.find((s) => s.name === c.from)!;
    const installs = npmInstalls(stage);
    expect(installs.length).toBeGreaterThan(0);
    for (const cmd of installs) {
      expect(cmd).toMatch(/^npm ci\b.*--omit=dev\b/);
      expect(cmd).not.toMatch(/--ignore-scripts/);
    }
    // ... and never from a stage that installed devDependencies.
    expect(stage.name).not.toBe('build');
  }
});

test('nothing is copied from the build stage but dist/ and the package files', () => {
  const fromBuild = copiesFrom(final).filter((c) => c.from === 'build');
  expect(fromBuild.length).toBeGreaterThan(0);
  const buildDir = workdir(stages.find((s) => s.name === 'build')!);
  for (const c of fromBuild) {
    for (const src of c.sources) {
      const rel = path.posix.relative(buildDir, path.posix.resolve(buildDir, src));
      expect(['dist', 'package.json', 'package-lock.json']).toContain(rel);
    }
  }
  expect(fromBuild.flatMap((c) => c.sources).map((s) => path.posix.basename(s))).toEqual(expect.arrayContaining(['dist', 'package.json']));
  // The final stage copies nothing from the build context (only from stages).
  expect(all(final, 'COPY').filter((c) => !/--from=/.test(c.args))).toEqual([]);
  expect(all(final, 'ADD')).toEqual([]);
});

test('HEALTHCHECK probes /health/live with node (no curl in the slim image)', () => {
  const hc = one(final, 'HEALTHCHECK');
  const cmd = exec(hc.replace(/^(?:--\S+\s+)*CMD\s+/, ''));
  expect(cmd[0]).toBe('node');
  expect(cmd.join(' ')).toContain('/health/live');
  expect(hc).not.toMatch(/\b(curl|wget)\b/);
});

test('EXPOSE 9095, ENTRYPOINT node dist/cli/main.js, CMD serve', () => {
  expect(one(final, 'EXPOSE')).toBe('9095');
  expect(exec(one(final, 'ENTRYPOINT'))).toEqual(['node', 'dist/cli/main.js']);
  expect(exec(one(final, 'CMD'))).toEqual(['serve']);
});

test('the state directory is a volume owned by the runtime user, and ROLLBACK_STATE_DIR points at it', () => {
  const volume = exec(one(final, 'VOLUME'))[0]!;
  const env = final.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
  expect(env).toContain(`ROLLBACK_STATE_DIR=${volume}`);
  const user = one(final, 'USER');
  expect(all(final, 'RUN').some((r) => r.args.includes(`chown ${user} ${volume}`))).toBe(true);
});

test('the ENTRYPOINT file exists after npm run build (tsconfig.build.json compiled to a temp outDir)', () => {
  const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string } };
  expect(tsconfig.compilerOptions.outDir).toBe('dist');
  // The image's dist/ lands in the final WORKDIR, next to package.json (version.ts reads ../package.json from dist/).
  const dist = copiesFrom(final).find((c) => c.sources.some((s) => path.posix.basename(s) === 'dist'))!;
  expect(path.posix.resolve(workdir(final), dist.dest)).toBe(path.posix.join(workdir(final), 'dist'));
  const entry = exec(one(final, 'ENTRYPOINT'))[1]!;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rollback-receiver-build-'));
  try {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.existsSync(path.join(out, path.relative('dist', entry)))).toBe(true);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 180_000);

test('.dockerignore keeps node_modules, dist and local state out, and the build inputs in', () => {
  const patterns = fs
    .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const ignored = (p: string) =>
    patterns.some((pat) => {
      const bare = pat.replace(/^\*\*\//, '').replace(/\/$/, '');
      return p === bare || p.startsWith(`${bare}/`) || (bare.includes('*') && new RegExp(`^${bare.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`).test(p));
    });
  for (const p of ['node_modules', 'dist', 'data', '.git']) expect([p, ignored(p)]).toEqual([p, true]);
  for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'src/cli/main.ts']) expect([p, ignored(p)]).toEqual([p, false]);
  // Every file the Dockerfile copies from the context exists.
  for (const s of stages) {
    for (const c of all(s, 'COPY').filter((x) => !/--from=/.test(x.args))) {
      for (const src of c.args.split(/\s+/).slice(0, -1)) expect([src, fs.existsSync(path.join(ROOT, src))]).toEqual([src, true]);
    }
  }
});
