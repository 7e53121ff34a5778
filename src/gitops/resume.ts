/**
 * Resumes paused GitOps reconciliation: when an operator says so (API, CLI) or, with
 * `gitops.resume: onSourceChange`, once the source moved on (Argo CD: the revision the
 * Application resolves its target to; Flux: the source's `status.artifact.revision`, since
 * a suspended object's own status is frozen). Never silently: every resume is recorded,
 * an Event on the rolled-back workload and a notification. The restore is sent only while
 * the pause is still in effect; a field someone else changed meanwhile is not overwritten.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { stepState } from '../execution/expectations.js';
import { KubeApiError, type KubeClient } from '../kube/client.js';
import { recordEvent } from '../kube/events.js';
import { canonicalJson } from '../kube/template-digest.js';
import type { Notifications } from '../notify/notifier.js';
import type { Effect, GitOpsPauseRecord } from '../store/records.js';
import type { SqliteStore } from '../store/sqlite.js';
import { gitopsEnabled } from './config.js';
import { pauseObject, resumeStep } from './pause.js';

const REQUEST_TIMEOUT_MS = 15_000;

export interface ResumerDeps {
  kube: KubeClient;
  store: SqliteStore;
  config: Config;
  clock: Clock;
  log: Logger;
  notifications: Notifications;
  record: (effects: Effect[]) => Promise<void>;
}

/** Why a resume was not done: 404 no such pause, 409 already resumed or changed by someone else, 503 the API did not answer. */
export class ResumeError extends Error {
  constructor(
    readonly status: 404 | 409 | 503,
    message: string,
  ) {
    super(message);
  }
}

function valueAt(o: unknown, path: string[]): unknown {
  return path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), o);
}

export class GitOpsResumer {
  private timer: NodeJS.Timeout | undefined;
  private readonly resuming = new Set<string>();

  constructor(private readonly deps: ResumerDeps) {}

  /** Checks sources on the configured interval (`onSourceChange` only). */
  start(): void {
    const { gitops } = this.deps.config;
    if (!gitopsEnabled(gitops) || gitops.resume !== 'onSourceChange') return;
    this.timer = setInterval(() => void this.checkSources(), gitops.checkIntervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Restores what the pause removed; `by` says who asked, for the record. */
  async resume(id: string, by: string): Promise<GitOpsPauseRecord> {
    const record = this.deps.store.gitopsPause(id);
    if (!record) throw new ResumeError(404, `no GitOps pause ${id}`);
    if (record.status === 'resumed') throw new ResumeError(409, `GitOps pause ${id} was resumed already, at ${new Date(record.resumedAt!).toISOString()} (${record.resumedBy})`);
    if (this.resuming.has(id)) throw new ResumeError(409, `GitOps pause ${id} is being resumed right now`);
    this.resuming.add(id);
    try {
      return await this.restore(record, by);
    } finally {
      this.resuming.delete(id);
    }
  }

  private async restore(record: GitOpsPauseRecord, by: string): Promise<GitOpsPauseRecord> {
    const { kube, clock } = this.deps;
    const step = resumeStep(record.pause);
    const deadline = clock.now() + REQUEST_TIMEOUT_MS;
    let how: string;
    try {
      const state = await stepState(step, (path) => kube.request({ method: 'GET', path }, { deadline }));
      if (state.state === 'changed') throw new ResumeError(409, `not resumed: ${pauseObject(record.pause)} changed since the pause (${state.detail}); restore it by hand if needed`);
      if (state.state === 'done') how = 'it was restored already';
      else {
        await kube.send(step.request, REQUEST_TIMEOUT_MS);
        how = step.description;
      }
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) how = `${pauseObject(record.pause)} no longer exists`;
      else if (err instanceof KubeApiError) throw new ResumeError(err.transient ? 503 : 409, `not resumed: ${err.message}`);
      else throw err;
    }
    const resumed: GitOpsPauseRecord = { ...record, status: 'resumed', resumedAt: clock.now(), resumedBy: by };
    await this.deps.record([{ type: 'gitops-pause', record: resumed }]);
    const detail = `${how} (${by}); paused by rollback ${record.rollbackId}`;
    this.deps.log.info({ pause: record.id, rollbackId: record.rollbackId }, `GitOps reconciliation resumed: ${detail}`);
    await recordEvent(kube, record.object, 'GitOpsResumed', `${pauseObject(record.pause)} resumed: ${detail}`, clock.now()).catch((err: Error) =>
      this.deps.log.warn({ pause: record.id, err: err.message }, 'could not record a Kubernetes event'),
    );
    this.deps.notifications.emit({ type: 'gitops_resumed', pause: resumed, detail, rollback: this.deps.store.rollback(record.rollbackId) });
    return resumed;
  }

  /** One pass: resumes every pause whose source's revision differs from the one at the pause. */
  async checkSources(): Promise<void> {
    const { kube, clock, log, store } = this.deps;
    for (const record of store.gitopsPauses({ active: true })) {
      const source = record.pause.source;
      if (!source) continue;
      try {
        const object = await kube.request({ method: 'GET', path: source.path }, { deadline: clock.now() + REQUEST_TIMEOUT_MS });
        const now = canonicalJson(valueAt(object, source.field));
        if (now === source.revision) continue;
        await this.resume(record.id, `the source moved on: ${source.field.join('.')} ${source.revision} → ${now}`);
      } catch (err) {
        log.warn({ pause: record.id, err: (err as Error).message }, 'could not check whether a paused GitOps source moved on');
      }
    }
  }
}
