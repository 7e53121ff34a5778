/**
 * The seed's restoration stages, as observation: its "Service Restoration" shifts traffic
 * 25 → 50 → 75 → 100 % with 5 minutes each. The receiver never leaves traffic on the failed
 * side (blue-green switches 100 % at once; a weighted shift belongs to a service mesh), so
 * what remains of the loop is looking at the restored service in stages: checkpoints at
 * 5, 10, 15 and 20 minutes into the monitoring window (monitoring.enhanced.stages). Each
 * checkpoint is judged from the samples taken since the previous one; a breach in a stage
 * escalates as any breach does (monitor.ts) and shows here at that stage.
 */
import type { SampleRecord, WindowRecord } from '../store/records.js';

/** The seed's 4 stages of 5 minutes, as offsets from the window's start. */
export const DEFAULT_STAGES_MS = [5, 10, 15, 20].map((m) => m * 60_000);

export type StageStatus = 'passed' | 'breached' | 'unknown' | 'pending' | 'not-reached';

export interface StageCheckpoint {
  stage: number;
  /** Offset from the window's start. */
  offsetMs: number;
  at: number;
  status: StageStatus;
  /** Samples taken in the stage (since the previous checkpoint). */
  samples: number;
  detail: string;
}

/** Offsets of the configured stages, or why they cannot be used. */
export function stageProblem(stagesMs: readonly number[], durationMs: number): string | undefined {
  for (let i = 0; i < stagesMs.length; i++) {
    if (stagesMs[i]! <= 0) return `stage ${i + 1} must be after the window's start`;
    if (i > 0 && stagesMs[i]! <= stagesMs[i - 1]!) return `stage ${i + 1} (${stagesMs[i]! / 1000}s) must come after stage ${i} (${stagesMs[i - 1]! / 1000}s)`;
    if (stagesMs[i]! > durationMs) return `stage ${i + 1} (${stagesMs[i]! / 1000}s) is after the window ends (duration ${durationMs / 1000}s)`;
  }
  return undefined;
}

/**
 * Where each stage stands, from the window and its samples alone: reached once a sample at or
 * after its time exists or the window ran past it; a stage the window ended before is not reached.
 */
export function stageCheckpoints(window: Pick<WindowRecord, 'startedAt' | 'finishedAt' | 'stagesMs'>, samples: readonly SampleRecord[]): StageCheckpoint[] {
  const offsets = window.stagesMs ?? [];
  const lastSample = samples.reduce((m, s) => Math.max(m, s.at), -Infinity);
  return offsets.map((offsetMs, i) => {
    const from = window.startedAt + (i === 0 ? 0 : offsets[i - 1]!);
    const at = window.startedAt + offsetMs;
    const own = samples.filter((s) => s.at > from && s.at <= at);
    const times = new Set(own.map((s) => s.at)).size;
    const base = { stage: i + 1, offsetMs, at, samples: times };
    const breach = own.find((s) => s.state === 'breach');
    if (breach) return { ...base, status: 'breached', detail: `${breach.metric} ${breach.detail} at ${new Date(breach.at).toISOString()}` };
    const reached = lastSample >= at || (window.finishedAt !== null && window.finishedAt >= at);
    if (!reached) {
      return window.finishedAt === null
        ? { ...base, status: 'pending', detail: `due at ${new Date(at).toISOString()}` }
        : { ...base, status: 'not-reached', detail: 'the window ended before this stage' };
    }
    const ok = own.filter((s) => s.state === 'ok').length;
    if (own.length === 0 || ok < own.length) {
      return { ...base, status: 'unknown', detail: own.length === 0 ? 'no sample in this stage' : `${own.length - ok} of ${own.length} readings unknown` };
    }
    return { ...base, status: 'passed', detail: `${times} sample(s), no breach` };
  });
}
