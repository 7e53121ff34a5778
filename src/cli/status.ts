/** `status`: what a running receiver says about itself. */
import type { statusView } from '../api/status.js';
import { formatDuration } from '../config/duration.js';
import { callReceiver } from './client.js';
import { exitWith } from './fail.js';
import { print, type OutputFormat } from './output.js';

type Status = ReturnType<typeof statusView>;

function statusText(s: Status): string {
  return [
    `mode: ${s.mode}${s.draining ? ' (shutting down)' : ''}`,
    `freeze: ${s.freeze.frozen ? `ON since ${s.freeze.since}${s.freeze.reason ? `: ${s.freeze.reason}` : ''}` : 'off'}`,
    `brake: ${s.brake.recentRollbacks} of ${s.brake.max} rollbacks in ${formatDuration(s.brake.windowSeconds * 1000)}${s.brake.tripped ? `, TRIPPED until ${s.brake.holdsUntil}` : ''}`,
    `pending intents: ${s.pendingIntents}`,
    `store: ${s.store.ok ? 'ok' : `FAILING: ${s.store.error}`} (${s.store.path})`,
    `cluster: ${s.cluster.configured ? s.cluster.server : `none (${s.cluster.reason})`}`,
    'triggers:',
    ...s.triggers.map((t) => `  - ${t.name}: ${t.matchers.join(', ')}${t.automatic ? '' : ' (notify only)'}`),
    `config: ${s.config ?? 'built-in defaults'}`,
    `version ${s.versions.rollbackReceiver} (node ${s.versions.node}), up since ${s.startedAt}`,
  ].join('\n');
}

export async function statusCommand(opts: { url: string; output: OutputFormat }): Promise<void> {
  try {
    const body = (await callReceiver(new URL('/api/v1/status', opts.url).toString())) as Status;
    print(opts.output, body, statusText);
  } catch (err) {
    exitWith(err);
  }
}
