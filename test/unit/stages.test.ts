/** Stage checkpoints of a monitoring window (pure): judged from the samples of each stage. */
import { DEFAULT_STAGES_MS, stageCheckpoints, stageProblem } from '../../src/monitoring/stages.js';
import type { SampleRecord, SampleState } from '../../src/store/records.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const MIN = 60_000;
const sample = (minutes: number, state: SampleState, metric = 'error_rate'): SampleRecord => ({
  windowId: 'w',
  at: T0 + minutes * MIN,
  metric,
  value: state === 'unknown' ? null : 0.01,
  threshold: 0.05,
  state,
  detail: state === 'breach' ? '0.2 > threshold 0.05' : 'ok',
});
const window = (finishedAt: number | null) => ({ startedAt: T0, finishedAt, stagesMs: DEFAULT_STAGES_MS });

describe('stage checkpoints', () => {
  it("are the seed's 5, 10, 15 and 20 minutes by default", () => {
    expect(DEFAULT_STAGES_MS).toEqual([5 * MIN, 10 * MIN, 15 * MIN, 20 * MIN]);
  });

  it('judge each stage by its own samples: passed, breached, unknown, then pending while the window runs', () => {
    const samples = [1, 2, 3, 4, 5].map((m) => sample(m, 'ok'))
      .concat([6, 7].map((m) => sample(m, 'ok')), [sample(8, 'breach')], [sample(11, 'unknown'), sample(11, 'ok', 'response_time')]);
    const stages = stageCheckpoints(window(null), samples);
    expect(stages.map((c) => [c.stage, c.status, c.samples])).toEqual([
      [1, 'passed', 5],
      [2, 'breached', 3],
      [3, 'pending', 1],
      [4, 'pending', 0],
    ]);
    expect(stages[1]!.detail).toBe('error_rate 0.2 > threshold 0.05 at 2026-12-01T10:08:00.000Z');
    // Stage 3 is reached once a sample at or after 15 min exists; its reading so far has an unknown.
    const later = stageCheckpoints(window(null), [...samples, sample(15, 'ok')]);
    expect(later[2]!).toMatchObject({ status: 'unknown', detail: '1 of 3 readings unknown' });
  });

  it('a window that ended before a stage did not reach it; one that ran past it without samples is unknown', () => {
    expect(stageCheckpoints(window(T0 + 12 * MIN), [sample(3, 'ok')]).map((c) => c.status)).toEqual(['passed', 'unknown', 'not-reached', 'not-reached']);
  });

  it('checks the configured stages against the window', () => {
    expect(stageProblem([5 * MIN, 10 * MIN], 30 * MIN)).toBeUndefined();
    expect(stageProblem([10 * MIN, 5 * MIN], 30 * MIN)).toBe('stage 2 (300s) must come after stage 1 (600s)');
    expect(stageProblem([5 * MIN, 40 * MIN], 30 * MIN)).toBe('stage 2 (2400s) is after the window ends (duration 1800s)');
    expect(stageProblem([0], 30 * MIN)).toBe("stage 1 must be after the window's start");
  });
});
