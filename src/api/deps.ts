import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { Executor } from '../execution/executor.js';
import type { GitOpsResumer } from '../gitops/resume.js';
import type { Monitor } from '../monitoring/monitor.js';
import type { PrometheusClient } from '../monitoring/prometheus.js';
import type { Credentials } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { SqliteStore } from '../store/sqlite.js';
import type { SharedLedger } from '../store/shared-ledger.js';
import type { StateIndex } from '../store/state-index.js';

/** What the operator API reads and changes. */
export interface ApiDeps {
  config: Config;
  store: SqliteStore;
  state: StateIndex;
  dispatcher: Dispatcher;
  credentials: Credentials;
  metrics: Metrics;
  clock: Clock;
  draining: () => boolean;
  version: string;
  /** The API server's URL, or null without a cluster. */
  kubeServer: string | null;
  executor: Executor | null;
  /** Resumes GitOps pauses; null without a cluster. */
  gitops: GitOpsResumer | null;
  monitor: Monitor | null;
  /** For the incident report's range query. */
  prometheus: PrometheusClient;
  /** The receiver's own public URL, for links in reports and notifications. */
  receiverUrl?: string;
  startedAt: number;
  /** The ledger shared between replicas (Kubernetes backend): listing views refresh it first. */
  shared: SharedLedger | null;
  /** This replica, in answers, so a reader knows which replica's records they see. */
  replica: string;
}
