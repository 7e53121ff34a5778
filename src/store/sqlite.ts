/**
 * The durable store: one SQLite file (WAL, synchronous=FULL, so a committed webhook
 * survives a crash or power cut). Writes arrive as Effects inside a transaction the
 * dispatcher opens; reads serve the API and rebuild the in-memory index at start.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { dedupKey, targetKey, type DecisionValue, type Pin, type Revision, type Target } from '../model.js';
import type { DecidedInfo, DecisionRecord, Effect, Freeze, GitOpsPauseRecord, PendingIntent, RevisionMark, RollbackRecord, SampleRecord, WindowRecord } from './records.js';
import type { RestoredState } from './state-index.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS decisions (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  starts_at TEXT NOT NULL,
  status TEXT NOT NULL,
  alertname TEXT,
  trigger TEXT,
  namespace TEXT,
  name TEXT,
  strategy TEXT,
  decision TEXT NOT NULL,
  reason TEXT NOT NULL,
  rollback_id TEXT,
  pending_of TEXT,
  due_at INTEGER,
  alert TEXT NOT NULL,
  grp TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions(at);
CREATE INDEX IF NOT EXISTS decisions_target ON decisions(namespace, name, at);
CREATE INDEX IF NOT EXISTS decisions_decision ON decisions(decision, at);
CREATE TABLE IF NOT EXISTS rollbacks (
  id TEXT PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  strategy TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  trigger TEXT,
  decision_id TEXT,
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  dry_run INTEGER NOT NULL,
  steps TEXT NOT NULL,
  objects TEXT NOT NULL DEFAULT '[]',
  pin TEXT
);
CREATE INDEX IF NOT EXISTS rollbacks_started ON rollbacks(started_at);
CREATE TABLE IF NOT EXISTS pending (key TEXT PRIMARY KEY, id TEXT NOT NULL, due_at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS escalations (target TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL, revision TEXT, PRIMARY KEY (target, reason));
CREATE TABLE IF NOT EXISTS revisions (
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  revision_id TEXT NOT NULL,
  status TEXT NOT NULL,
  since INTEGER NOT NULL,
  rollback_id TEXT,
  revision TEXT NOT NULL,
  PRIMARY KEY (namespace, name, revision_id)
);
CREATE TABLE IF NOT EXISTS guard_resets (target TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS windows (
  id TEXT PRIMARY KEY,
  rollback_id TEXT,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  deployment TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  interval_ms INTEGER NOT NULL,
  status TEXT NOT NULL,
  escalation TEXT,
  finished_at INTEGER,
  note TEXT,
  stages TEXT
);
CREATE INDEX IF NOT EXISTS windows_rollback ON windows(rollback_id);
CREATE INDEX IF NOT EXISTS windows_status ON windows(status);
CREATE TABLE IF NOT EXISTS gitops_pauses (
  id TEXT PRIMARY KEY,
  rollback_id TEXT NOT NULL,
  status TEXT NOT NULL,
  paused_at INTEGER NOT NULL,
  resumed_at INTEGER,
  data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS samples (
  window_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  metric TEXT NOT NULL,
  value REAL,
  threshold REAL,
  state TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (window_id, at, metric)
);
`;

/** Columns added after the first release: added in place to an existing file. */
const ADDED_COLUMNS: [table: string, column: string, definition: string][] = [
  ['rollbacks', 'objects', `TEXT NOT NULL DEFAULT '[]'`],
  ['rollbacks', 'pin', 'TEXT'],
  ['escalations', 'revision', 'TEXT'],
  ['windows', 'note', 'TEXT'],
  ['windows', 'stages', 'TEXT'],
];

export interface DecisionQuery {
  namespace?: string;
  name?: string;
  decision?: DecisionValue;
  trigger?: string;
  since?: number;
  limit: number;
}

interface DecisionRow {
  id: string;
  at: number;
  trigger: string | null;
  namespace: string | null;
  name: string | null;
  strategy: string | null;
  decision: DecisionValue;
  reason: string;
  rollback_id: string | null;
  pending_of: string | null;
  due_at: number | null;
  alert: string;
  grp: string;
}

interface RollbackRow {
  id: string;
  namespace: string;
  name: string;
  strategy: RollbackRecord['strategy'];
  kind: RollbackRecord['kind'];
  status: RollbackRecord['status'];
  reason: string;
  trigger: string | null;
  decision_id: string | null;
  started_at: number;
  finished_at: number | null;
  dry_run: number;
  steps: string;
  objects: string;
  pin: string | null;
}

export class SqliteStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'rollback-receiver.db');
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    for (const [table, column, definition] of ADDED_COLUMNS) {
      const columns = this.db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all();
      if (!columns.some((c) => c.name === column)) this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
    }
    this.stmts = {
      insertDecision: this.db.prepare(
        `INSERT INTO decisions (id, at, fingerprint, starts_at, status, alertname, trigger, namespace, name, strategy, decision, reason, rollback_id, pending_of, due_at, alert, grp)
         VALUES (@id, @at, @fingerprint, @starts_at, @status, @alertname, @trigger, @namespace, @name, @strategy, @decision, @reason, @rollback_id, @pending_of, @due_at, @alert, @grp)`,
      ),
      upsertRollback: this.db.prepare(
        `INSERT OR REPLACE INTO rollbacks (id, namespace, name, strategy, kind, status, reason, trigger, decision_id, started_at, finished_at, dry_run, steps, objects, pin)
         VALUES (@id, @namespace, @name, @strategy, @kind, @status, @reason, @trigger, @decision_id, @started_at, @finished_at, @dry_run, @steps, @objects, @pin)`,
      ),
      finishRollback: this.db.prepare(`UPDATE rollbacks SET status = ?, finished_at = ?, steps = ? WHERE id = ?`),
      rollbackSteps: this.db.prepare(`UPDATE rollbacks SET steps = ? WHERE id = ?`),
      openPending: this.db.prepare(`INSERT OR REPLACE INTO pending (key, id, due_at, data) VALUES (?, ?, ?, ?)`),
      closePending: this.db.prepare(`DELETE FROM pending WHERE key = ?`),
      escalation: this.db.prepare(`INSERT OR REPLACE INTO escalations (target, reason, at, revision) VALUES (?, ?, ?, ?)`),
      markRevision: this.db.prepare(
        `INSERT OR REPLACE INTO revisions (namespace, name, revision_id, status, since, rollback_id, revision) VALUES (@namespace, @name, @revisionId, @status, @since, @rollbackId, @revision)`,
      ),
      keepBadRevision: this.db.prepare<[string, string, string]>(`SELECT 1 FROM revisions WHERE namespace = ? AND name = ? AND revision_id = ? AND status = 'bad'`),
      clearRevision: this.db.prepare(`DELETE FROM revisions WHERE namespace = ? AND name = ? AND revision_id = ? AND status = 'bad'`),
      clearRevisions: this.db.prepare(`DELETE FROM revisions WHERE namespace = ? AND name = ? AND status = 'bad'`),
      reset: this.db.prepare(`INSERT OR REPLACE INTO guard_resets (target, at) VALUES (?, ?)`),
      setSetting: this.db.prepare(`INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)`),
      getSetting: this.db.prepare<[string], { value: string }>(`SELECT value FROM settings WHERE key = ?`),
      getRollback: this.db.prepare<[string], RollbackRow>(`SELECT * FROM rollbacks WHERE id = ?`),
      ping: this.db.prepare(`SELECT 1`),
      openWindow: this.db.prepare(
        `INSERT OR REPLACE INTO windows (id, rollback_id, namespace, name, deployment, started_at, ends_at, interval_ms, status, escalation, finished_at, note, stages)
         VALUES (@id, @rollbackId, @namespace, @name, @deployment, @startedAt, @endsAt, @intervalMs, @status, @escalation, @finishedAt, @note, @stages)`,
      ),
      updateWindow: this.db.prepare(`UPDATE windows SET status = ?, escalation = ?, finished_at = ?, note = COALESCE(?, note) WHERE id = ?`),
      addSample: this.db.prepare(
        `INSERT OR REPLACE INTO samples (window_id, at, metric, value, threshold, state, detail) VALUES (@windowId, @at, @metric, @value, @threshold, @state, @detail)`,
      ),
      upsertPause: this.db.prepare(
        `INSERT OR REPLACE INTO gitops_pauses (id, rollback_id, status, paused_at, resumed_at, data) VALUES (@id, @rollbackId, @status, @pausedAt, @resumedAt, @data)`,
      ),
    };
  }

  /** Runs `fn` in one transaction; commits when it returns, rolls back when it throws. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** A savepoint inside the current transaction: one payload of a group commit. */
  savepoint<T>(fn: () => T): T {
    // better-sqlite3 nests transactions as savepoints.
    return this.db.transaction(fn)();
  }

  write(effect: Effect): void {
    const s = this.stmts;
    switch (effect.type) {
      case 'decision': {
        const r = effect.record;
        s.insertDecision.run({
          id: r.id,
          at: r.at,
          fingerprint: r.alert.fingerprint,
          starts_at: r.alert.startsAt,
          status: r.alert.status,
          alertname: r.alert.labels.alertname ?? null,
          trigger: r.trigger,
          namespace: r.namespace,
          name: r.name,
          strategy: r.strategy,
          decision: r.decision,
          reason: r.reason,
          rollback_id: r.rollbackId,
          pending_of: r.pendingOf,
          due_at: r.dueAt,
          alert: JSON.stringify(r.alert),
          grp: JSON.stringify(r.group),
        });
        break;
      }
      case 'rollback': {
        const r = effect.record;
        s.upsertRollback.run({
          id: r.id,
          namespace: r.namespace,
          name: r.name,
          strategy: r.strategy,
          kind: r.kind,
          status: r.status,
          reason: r.reason,
          trigger: r.trigger,
          decision_id: r.decisionId,
          started_at: r.startedAt,
          finished_at: r.finishedAt,
          dry_run: r.dryRun ? 1 : 0,
          steps: JSON.stringify(r.steps),
          objects: JSON.stringify(r.objects),
          pin: r.pin ? JSON.stringify(r.pin) : null,
        });
        break;
      }
      case 'revision-mark': {
        const { target, mark } = effect;
        // A monitoring window cannot clear a quarantine (the same rule as the index's).
        if (mark.status === 'known-good' && s.keepBadRevision.get(target.namespace, target.name, mark.revision.id)) break;
        s.markRevision.run({
          namespace: target.namespace,
          name: target.name,
          revisionId: mark.revision.id,
          status: mark.status,
          since: mark.since,
          rollbackId: mark.rollbackId,
          revision: JSON.stringify(mark.revision),
        });
        break;
      }
      case 'quarantine-clear':
        if (effect.revisionId === null) s.clearRevisions.run(effect.target.namespace, effect.target.name);
        else s.clearRevision.run(effect.target.namespace, effect.target.name, effect.revisionId);
        break;
      case 'rollback-steps':
        s.rollbackSteps.run(JSON.stringify(effect.steps), effect.id);
        break;
      case 'rollback-finished':
        s.finishRollback.run(effect.status, effect.at, JSON.stringify(effect.steps), effect.id);
        break;
      case 'pending-open':
        s.openPending.run(effect.pending.key, effect.pending.id, effect.pending.dueAt, JSON.stringify(effect.pending));
        break;
      case 'pending-close':
        s.closePending.run(effect.key);
        break;
      case 'brake-trip':
        s.setSetting.run('brake', JSON.stringify({ trippedAt: effect.at }));
        break;
      case 'escalation':
        s.escalation.run(targetKey(effect.target), effect.reason, effect.at, effect.revision ?? null);
        break;
      case 'guard-reset':
        s.reset.run(targetKey(effect.target), effect.at);
        break;
      case 'freeze':
        s.setSetting.run('freeze', JSON.stringify(effect.freeze));
        break;
      case 'window-open':
        s.openWindow.run({ ...effect.window, note: effect.window.note ?? null, stages: effect.window.stagesMs ? JSON.stringify(effect.window.stagesMs) : null });
        break;
      case 'window-samples':
        // SQLite has no NaN: an unknown sample's value is NULL.
        for (const sample of effect.samples) s.addSample.run({ ...sample, value: sample.value !== null && Number.isFinite(sample.value) ? sample.value : null });
        break;
      case 'window-update':
        s.updateWindow.run(effect.status, effect.escalation, effect.finishedAt, effect.note ?? null, effect.id);
        break;
      case 'gitops-pause': {
        const r = effect.record;
        s.upsertPause.run({ id: r.id, rollbackId: r.rollbackId, status: r.status, pausedAt: r.pausedAt, resumedAt: r.resumedAt, data: JSON.stringify(r) });
        break;
      }
    }
  }

  /** What the in-memory index needs to answer the guards after a restart. */
  restore(decidedSince: number, rollbacksSince: number): RestoredState {
    const decided: [string, DecidedInfo][] = [];
    const rows = this.db
      .prepare<[number], { id: string; at: number; fingerprint: string; starts_at: string; decision: DecisionValue; pending_of: string | null }>(
        `SELECT id, at, fingerprint, starts_at, decision, pending_of FROM decisions WHERE at >= ? OR id IN (SELECT id FROM pending) ORDER BY at, rowid`,
      )
      .iterate(decidedSince);
    const seen = new Set<string>();
    for (const r of rows) {
      const k = dedupKey({ fingerprint: r.fingerprint, startsAt: r.starts_at });
      // The first decision of an alert is its dedup answer, unless a later one settles its pending intent.
      if (seen.has(k) && !r.pending_of) continue;
      seen.add(k);
      decided.push([k, { id: r.id, decision: r.decision, at: r.at }]);
    }
    const rollbacks = this.db
      .prepare<[number], RollbackRow>(`SELECT * FROM rollbacks WHERE started_at >= ? OR status = 'running' ORDER BY started_at, rowid`)
      .all(rollbacksSince)
      .map(toRollback);
    // The reverted signal needs each target's last success however old; the guards need only recent attempts.
    const lastSuccesses = this.db
      .prepare<[], RollbackRow>(
        `SELECT * FROM rollbacks r WHERE status = 'success' AND dry_run = 0 AND pin IS NOT NULL
           AND finished_at = (SELECT MAX(finished_at) FROM rollbacks s WHERE s.namespace = r.namespace AND s.name = r.name AND s.status = 'success' AND s.dry_run = 0 AND s.pin IS NOT NULL)`,
      )
      .all()
      .map(toRollback);
    const pending = this.db
      .prepare<[], { data: string }>(`SELECT data FROM pending ORDER BY due_at`)
      .all()
      .map((r) => JSON.parse(r.data) as PendingIntent);
    const resets = this.db.prepare<[], { target: string; at: number }>(`SELECT target, at FROM guard_resets`).all();
    const escalations = this.db
      .prepare<[], { target: string; reason: string; at: number; revision: string | null }>(`SELECT target, reason, at, revision FROM escalations`)
      .all();
    const revisions = this.db
      .prepare<[], { namespace: string; name: string; status: RevisionMark['status']; since: number; rollback_id: string | null; revision: string }>(
        `SELECT namespace, name, status, since, rollback_id, revision FROM revisions ORDER BY since, rowid`,
      )
      .all();
    const brake = this.setting<{ trippedAt: number }>('brake');
    return {
      decided,
      rollbacks,
      lastSuccesses,
      pending,
      resets: resets.map((r) => [r.target, r.at]),
      escalations: escalations.map((e) => [`${e.target}#${e.reason}`, { at: e.at, revision: e.revision ?? undefined }]),
      revisions: revisions.map((r) => [
        { namespace: r.namespace, name: r.name },
        { revision: JSON.parse(r.revision) as Revision, status: r.status, since: r.since, rollbackId: r.rollback_id },
      ]),
      freeze: this.setting<Freeze | null>('freeze') ?? null,
      brakeTrippedAt: brake?.trippedAt,
    };
  }

  private setting<T>(name: string): T | undefined {
    const row = this.stmts.getSetting.get(name);
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  decisions(q: DecisionQuery): DecisionRecord[] {
    const where: string[] = [];
    const args: Record<string, unknown> = { limit: q.limit };
    for (const k of ['namespace', 'name', 'decision', 'trigger'] as const) {
      if (q[k] !== undefined) {
        where.push(`${k} = @${k}`);
        args[k] = q[k];
      }
    }
    if (q.since !== undefined) {
      where.push('at >= @since');
      args.since = q.since;
    }
    const sql = `SELECT * FROM decisions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, rowid DESC LIMIT @limit`;
    return this.db
      .prepare<[Record<string, unknown>], DecisionRow>(sql)
      .all(args)
      .map(toDecision);
  }

  decision(id: string): DecisionRecord | undefined {
    const row = this.db.prepare<[string], DecisionRow>(`SELECT * FROM decisions WHERE id = ?`).get(id);
    return row ? toDecision(row) : undefined;
  }

  rollbacks(limit: number, target?: Target): RollbackRecord[] {
    const rows = target
      ? this.db
          .prepare<[string, string, number], RollbackRow>(
            `SELECT * FROM rollbacks WHERE namespace = ? AND name = ? ORDER BY started_at DESC, rowid DESC LIMIT ?`,
          )
          .all(target.namespace, target.name, limit)
      : this.db.prepare<[number], RollbackRow>(`SELECT * FROM rollbacks ORDER BY started_at DESC, rowid DESC LIMIT ?`).all(limit);
    return rows.map(toRollback);
  }

  /** GitOps pauses, newest first: those still in force, or all. */
  gitopsPauses(filter: { active?: boolean; limit?: number } = {}): GitOpsPauseRecord[] {
    const rows = this.db
      .prepare<[number], { data: string }>(`SELECT data FROM gitops_pauses ${filter.active ? `WHERE status = 'paused'` : ''} ORDER BY paused_at DESC, id DESC LIMIT ?`)
      .all(filter.limit ?? 1000);
    return rows.map((r) => JSON.parse(r.data) as GitOpsPauseRecord);
  }

  gitopsPause(id: string): GitOpsPauseRecord | undefined {
    const row = this.db.prepare<[string], { data: string }>(`SELECT data FROM gitops_pauses WHERE id = ?`).get(id);
    return row ? (JSON.parse(row.data) as GitOpsPauseRecord) : undefined;
  }

  rollback(id: string): RollbackRecord | undefined {
    const row = this.stmts.getRollback.get(id);
    return row ? toRollback(row) : undefined;
  }

  windows(filter: { status?: WindowRecord['status']; rollbackId?: string; target?: Target } = {}): WindowRecord[] {
    const where: string[] = [];
    const args: Record<string, unknown> = {};
    if (filter.status) {
      where.push('status = @status');
      args.status = filter.status;
    }
    if (filter.rollbackId) {
      where.push('rollback_id = @rollbackId');
      args.rollbackId = filter.rollbackId;
    }
    if (filter.target) {
      where.push('namespace = @namespace AND name = @name');
      Object.assign(args, filter.target);
    }
    const sql = `SELECT * FROM windows ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, rowid DESC LIMIT 500`;
    return this.db
      .prepare<[Record<string, unknown>], WindowRow>(sql)
      .all(args)
      .map(toWindow);
  }

  window(id: string): WindowRecord | undefined {
    const row = this.db.prepare<[string], WindowRow>(`SELECT * FROM windows WHERE id = ?`).get(id);
    return row ? toWindow(row) : undefined;
  }

  samples(windowId: string): SampleRecord[] {
    return this.db
      .prepare<[string], { window_id: string; at: number; metric: string; value: number | null; threshold: number | null; state: SampleRecord['state']; detail: string }>(
        `SELECT * FROM samples WHERE window_id = ? ORDER BY at, metric`,
      )
      .all(windowId)
      .map((r) => ({ windowId: r.window_id, at: r.at, metric: r.metric, value: r.value, threshold: r.threshold, state: r.state, detail: r.detail }));
  }

  /** What the ledger says of one revision of a target (the report). */
  revisionMark(target: Target, revisionId: string): RevisionMark | undefined {
    const row = this.db
      .prepare<[string, string, string], { status: RevisionMark['status']; since: number; rollback_id: string | null; revision: string }>(
        `SELECT status, since, rollback_id, revision FROM revisions WHERE namespace = ? AND name = ? AND revision_id = ?`,
      )
      .get(target.namespace, target.name, revisionId);
    return row ? { revision: JSON.parse(row.revision) as Revision, status: row.status, since: row.since, rollbackId: row.rollback_id } : undefined;
  }

  /** Deletes what is older than the retention; pending intents are kept until decided. */
  prune(before: number): number {
    return this.transaction(() => {
      const d = this.db.prepare(`DELETE FROM decisions WHERE at < ? AND id NOT IN (SELECT id FROM pending)`).run(before).changes;
      const r = this.db.prepare(`DELETE FROM rollbacks WHERE started_at < ? AND status != 'running'`).run(before).changes;
      this.db.prepare(`DELETE FROM samples WHERE window_id IN (SELECT id FROM windows WHERE started_at < ? AND status != 'active')`).run(before);
      const w = this.db.prepare(`DELETE FROM windows WHERE started_at < ? AND status != 'active'`).run(before).changes;
      // A pause still in force holds the value to restore: kept until resumed.
      const p = this.db.prepare(`DELETE FROM gitops_pauses WHERE status = 'resumed' AND resumed_at < ?`).run(before).changes;
      return d + r + w + p;
    });
  }

  ping(): void {
    this.stmts.ping.get();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toDecision(r: DecisionRow): DecisionRecord {
  return {
    id: r.id,
    at: r.at,
    alert: JSON.parse(r.alert) as DecisionRecord['alert'],
    group: JSON.parse(r.grp) as DecisionRecord['group'],
    trigger: r.trigger,
    namespace: r.namespace,
    name: r.name,
    strategy: r.strategy,
    decision: r.decision,
    reason: r.reason,
    rollbackId: r.rollback_id,
    pendingOf: r.pending_of,
    dueAt: r.due_at,
  };
}

interface WindowRow {
  id: string;
  rollback_id: string | null;
  namespace: string;
  name: string;
  deployment: string;
  started_at: number;
  ends_at: number;
  interval_ms: number;
  status: WindowRecord['status'];
  escalation: string | null;
  finished_at: number | null;
  note: string | null;
  stages: string | null;
}

function toWindow(r: WindowRow): WindowRecord {
  return {
    id: r.id,
    rollbackId: r.rollback_id,
    namespace: r.namespace,
    name: r.name,
    deployment: r.deployment,
    startedAt: r.started_at,
    endsAt: r.ends_at,
    intervalMs: r.interval_ms,
    status: r.status,
    escalation: r.escalation,
    finishedAt: r.finished_at,
    note: r.note,
    ...(r.stages ? { stagesMs: JSON.parse(r.stages) as number[] } : {}),
  };
}

function toRollback(r: RollbackRow): RollbackRecord {
  return {
    id: r.id,
    namespace: r.namespace,
    name: r.name,
    strategy: r.strategy,
    kind: r.kind,
    status: r.status,
    reason: r.reason,
    trigger: r.trigger,
    decisionId: r.decision_id,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    dryRun: r.dry_run === 1,
    steps: JSON.parse(r.steps) as RollbackRecord['steps'],
    objects: JSON.parse(r.objects) as string[],
    pin: r.pin ? (JSON.parse(r.pin) as Pin) : null,
  };
}
