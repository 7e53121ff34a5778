/** `check-config`: validate the config and say what it enables; exit 2 naming every bad key. */
import { loadConfig } from '../config/load.js';
import { formatDuration } from '../config/duration.js';
import { formatMatcher } from '../matching/matchers.js';
import { createLogger } from '../log.js';
import { buildNotifiers } from '../notify/build.js';
import { triggerView } from '../api/status.js';
import { exitWith } from './fail.js';
import { print, type OutputFormat } from './output.js';

export function checkConfigCommand(opts: { config?: string; output: OutputFormat }): void {
  try {
    const c = loadConfig(opts.config);
    // Reads the channels' secrets now, so a missing one fails here rather than at start.
    const channels = buildNotifiers(c.notifications, process.env, { log: createLogger('silent'), serviceDryRun: c.dryRun, source: c.file ?? 'defaults' });
    const r = c.rollback;
    const lines = [
      `config OK: ${c.file ?? 'built-in defaults (no file)'}`,
      `mode: ${c.dryRun ? 'dry-run' : 'live'}; automatic rollbacks ${r.enabled && r.automatic ? 'on' : 'off'}`,
      'triggers:',
      ...r.triggers.map(
        (t) =>
          `  - ${t.name}: ${t.matchers.map(formatMatcher).join(', ')}; strategy ${t.strategy ?? 'from labels, else deployment-undo'}` +
          `${t.actAfterMs ? `; acts after ${formatDuration(t.actAfterMs)}` : ''}${t.automatic ? '' : '; notify only'}` +
          `${t.threshold !== undefined ? `; threshold ${t.threshold}${t.thresholdUnit ? ` (${t.thresholdUnit})` : ''}` : ''}`,
      ),
      `cooldown ${formatDuration(r.cooldownMs)}; ${r.maximumRetries} attempts per ${formatDuration(r.retryWindowMs)}; brake ${r.brake.max} per ${formatDuration(r.brake.windowMs)}`,
      `namespaces: allow ${r.namespaces.allow.length ? r.namespaces.allow.join(', ') : 'all'}; deny ${r.namespaces.deny.join(', ') || 'none'}; opt-in annotation ${r.requireOptIn ? 'required' : 'not required'}`,
      `state: ${c.stateDir} (retention ${formatDuration(c.retentionMs)}); port ${c.port}`,
      `monitoring: ${c.monitoring.enabled ? `${formatDuration(c.monitoring.durationMs)} every ${formatDuration(c.monitoring.intervalMs)} via ${c.prometheusUrl}: ${c.monitoring.metrics.map((m) => `${m.name}${m.threshold === null ? '' : ` > ${m.threshold}`}`).join(', ')}` : 'off'}`,
      `notifications: log${channels.map((ch) => `, ${ch.describe()}`).join('')}`,
    ];
    const seconds = (ms: number) => ms / 1000;
    const summary = {
      valid: true,
      file: c.file,
      mode: c.dryRun ? 'dry-run' : 'live',
      automaticRollbacks: r.enabled && r.automatic,
      triggers: r.triggers.map(triggerView),
      cooldownSeconds: seconds(r.cooldownMs),
      maximumRetries: r.maximumRetries,
      retryWindowSeconds: seconds(r.retryWindowMs),
      brake: { max: r.brake.max, windowSeconds: seconds(r.brake.windowMs) },
      namespaces: r.namespaces,
      requireOptIn: r.requireOptIn,
      state: { dir: c.stateDir, retentionSeconds: seconds(c.retentionMs) },
      port: c.port,
      monitoring: c.monitoring.enabled
        ? {
            durationSeconds: seconds(c.monitoring.durationMs),
            intervalSeconds: seconds(c.monitoring.intervalMs),
            prometheusUrl: c.prometheusUrl,
            metrics: c.monitoring.metrics.map((m) => ({ name: m.name, threshold: m.threshold })),
          }
        : null,
      notifications: ['log', ...channels.map((ch) => ch.describe())],
    };
    print(opts.output, summary, () => lines.join('\n'));
  } catch (err) {
    exitWith(err);
  }
}
