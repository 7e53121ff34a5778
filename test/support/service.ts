/** Builds a real Service (real SQLite in a temp dir, real express app) for tests, with a pinned clock. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ManualClock, type Clock } from '../../src/clock.js';
import type { KubeClient } from '../../src/kube/client.js';
import { buildConfig, parseConfigText, type Config } from '../../src/config/load.js';
import type { Credentials } from '../../src/http/auth.js';
import { createLogger } from '../../src/log.js';
import { Service } from '../../src/service.js';

export const T0 = Date.parse('2026-11-27T07:00:00Z');

/** Captures log lines so tests can assert on them (and on what must never be in them). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface TestServiceOptions<C extends Clock = ManualClock> {
  yaml?: string;
  env?: Record<string, string>;
  credentials?: Credentials;
  /** Default: a ManualClock at T0. Tests against a real cluster use the system clock. */
  clock?: C;
  stateDir?: string;
  /** Default: no cluster. */
  kube?: KubeClient | null;
}

export interface TestService<C extends Clock = ManualClock> {
  service: Service;
  config: Config;
  clock: C;
  logs: LogCapture;
  stateDir: string;
  /** Closes the service; the state dir is kept so a test can reopen it. */
  close(): Promise<void>;
  /** Closes and deletes the state dir. */
  destroy(): Promise<void>;
}

export function testConfig(yaml = '', env: Record<string, string> = {}, stateDir = '/nonexistent'): Config {
  return buildConfig(parseConfigText(yaml, 'test'), null, { ROLLBACK_STATE_DIR: stateDir, LOG_LEVEL: 'debug', ...env });
}

export function startTestService<C extends Clock = ManualClock>(opts: TestServiceOptions<C> = {}): TestService<C> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'rr-test-'));
  const config = testConfig(opts.yaml, opts.env, stateDir);
  const clock = opts.clock ?? (new ManualClock(T0) as unknown as C);
  const logs = new LogCapture();
  const service = new Service({
    config,
    clock,
    log: createLogger('debug', logs),
    credentials: opts.credentials ?? {},
    defaultMetrics: false,
    kube: opts.kube ?? null,
  });
  const close = () => service.close();
  return {
    service,
    config,
    clock,
    logs,
    stateDir,
    close,
    destroy: async () => {
      await close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
