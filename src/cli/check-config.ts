/** `check-config`: validate the config and say what it enables; exit 2 naming every bad key. */
import { loadConfig } from '../config/load.js';
import { formatDuration } from '../config/duration.js';
import { formatMatcher } from '../matching/matchers.js';
import { exitWith } from './fail.js';

export function checkConfigCommand(opts: { config?: string }): void {
  try {
    const c = loadConfig(opts.config);
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
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } catch (err) {
    exitWith(err);
  }
}
