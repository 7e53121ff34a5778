/** `check-config`: validate the config and say what it enables; exit 2 naming every bad key. */
import { loadConfig } from '../config/load.js';
import { formatDuration } from '../config/duration.js';
import { formatMatcher } from '../matching/matchers.js';
import { createLogger } from '../log.js';
import { buildNotifiers } from '../notify/build.js';
import { exitWith } from './fail.js';

export function checkConfigCommand(opts: { config?: string }): void {
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
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (err) {
    exitWith(err);
  }
}
