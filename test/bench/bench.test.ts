/**
 * `npm run bench --quick` still runs end to end and prints its one table: every intake
 * cell for every server, the memory phases, time to act, the storm — checked by shape and
 * by counts, never by timing (figures on a shared machine are noise; the bench reports
 * ratios, the test asserts none).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from '../support/process.js';
import { parseTable } from '../../bench/table.js';

const run = promisify(execFile);

describe('npm run bench --quick', () => {
  let rows: string[][];
  let stderr: string;
  beforeAll(async () => {
    // The bench starts the compiled receiver, as `npm start` does.
    await run('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: ROOT });
    const out = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick'], { cwd: ROOT, maxBuffer: 16 * 2 ** 20, timeout: 400_000 });
    rows = parseTable(out.stdout);
    stderr = out.stderr;
  }, 500_000);

  it('prints one table with the columns the docs describe', () => {
    expect(rows[0]).toEqual(['section', 'case', 'webhooks/s', 'p50 ms', 'p99 ms', 'vs bare', 'detail']);
    expect(rows.slice(1).every((r) => r.length === 7)).toBe(true);
  });

  it('measures every server at every payload size and concurrency, the receiver against bare', () => {
    const intake = rows.filter((r) => r[0] === 'intake');
    for (const server of ['bare', 'express', 'receiver']) {
      for (const size of ['1 alert', '10 alerts', '100 alerts']) {
        for (const c of ['c1', 'c10']) {
          const row = intake.filter((r) => r[1] === `${server}, ${size}, ${c}`);
          expect({ cell: `${server} ${size} ${c}`, rows: row.length }).toEqual({ cell: `${server} ${size} ${c}`, rows: 1 });
          // Every webhook answered 200: no "not 2xx", no errors, and some were sent.
          expect(row[0]![6]).toMatch(/^[1-9][\d]* webhooks$/);
          if (server !== 'bare') expect(row[0]![5]).toMatch(/^\d+\.\d\d×$/);
        }
      }
    }
    expect(intake.filter((r) => r[1] === 'receiver, 1 alert, c10, fixed 500/s')).toHaveLength(1);
  });

  it('records memory at start, after the alerts, and after retention pruned them', () => {
    const memory = rows.filter((r) => r[0] === 'memory');
    expect(memory.map((r) => r[1])).toEqual(['start', 'after 1000 alerts', 'after retention pruned']);
    const stored = memory.map((r) => Number(/(\d+) decisions stored/.exec(r[6]!)?.[1]));
    // Pruning may already take the oldest before the second reading on a slow machine; never after the third.
    expect([stored[0], stored[2]]).toEqual([0, 0]);
    expect(stored[1]).toBeGreaterThan(0);
    expect(stored[1]).toBeLessThanOrEqual(1000);
    expect(memory.every((r) => /^RSS \d+\.\d MiB, heap \d+\.\d MiB/.test(r[6]!))).toBe(true);
  });

  it('times alerts and an emergency blue-green to their first write, and counts the storm in the cluster', () => {
    const act = rows.filter((r) => r[0] === 'time to act');
    expect(act.map((r) => r[6]!.replace(/max \d+ ms/, 'max …'))).toEqual(['3 alerts, max …', '1 requests, max …']);
    const storm = rows.filter((r) => r[0] === 'storm');
    expect(storm).toHaveLength(1);
    expect(storm[0]![1]).toBe('20 alerts (5 targets × 4 re-sends), brake 1,000');
    // Each target rolled back exactly once: five Deployments restored, five PATCHes, the re-sends duplicates.
    expect(storm[0]![6]).toMatch(/decisions: duplicate 15, executed 5; rolled back in the cluster 5\/5, Deployment PATCHes 5$/);
    expect(stderr).not.toMatch(/bench failed/);
  });
});
