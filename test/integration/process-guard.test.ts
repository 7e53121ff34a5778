/**
 * The process-level handler across a real process boundary: a Node process with the
 * receiver's guard installed survives an unhandled rejection and an uncaught exception,
 * logs both and counts them in rollback_internal_errors_total.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/process.js';

it('logs, counts and keeps running after an unhandled rejection and an uncaught exception', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rr-guard-'));
  const script = join(dir, 'child.ts');
  writeFileSync(
    script,
    `import { createLogger } from '${ROOT}/src/log.js';
import { Metrics } from '${ROOT}/src/metrics.js';
import { guardProcess } from '${ROOT}/src/process-guard.js';
const metrics = new Metrics({ triggers: [], defaultMetrics: false });
guardProcess(createLogger('info'), metrics);
void Promise.reject(new Error('a background write failed'));
setTimeout(() => { throw new Error('a timer threw'); }, 10);
setTimeout(async () => {
  const text = await metrics.registry.metrics();
  process.stdout.write('STILL ALIVE ' + /rollback_internal_errors_total (\\d+)/.exec(text)![1] + '\\n');
}, 200);
`,
  );
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('STILL ALIVE 2');
    expect(r.stdout).toMatch(/"msg":"unhandled promise rejection \(a bug\): logged and counted; the receiver keeps serving".*|"err":"a background write failed"/);
    expect(r.stdout).toContain('a timer threw');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
