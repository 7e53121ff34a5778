/**
 * `gitops list` / `gitops resume`: the Argo CD and Flux reconciliations rollbacks paused in
 * a running receiver, and resuming one (what the pause removed is restored exactly).
 */
import type { pauseView } from '../api/gitops.js';
import { callReceiver, postToReceiver } from './client.js';
import { exitWith } from './fail.js';
import { print, type OutputFormat } from './output.js';

type PauseView = ReturnType<typeof pauseView>;

function pauseLine(p: PauseView): string {
  const o = p.object;
  const state = p.status === 'paused' ? `paused since ${p.pausedAt}` : `resumed ${p.resumedAt} (${p.resumedBy})`;
  return `${p.id}  ${o.kind} ${o.namespace}/${o.name}  ${p.field} was ${JSON.stringify(p.before)}  ${state}  (rollback ${p.rollbackId} of ${p.namespace}/${p.name})`;
}

export async function gitopsListCommand(opts: { url: string; status?: string; output: OutputFormat }): Promise<void> {
  try {
    const url = new URL('/api/v1/gitops/pauses', opts.url);
    if (opts.status) url.searchParams.set('status', opts.status);
    const body = (await callReceiver(url.toString())) as { pauses: PauseView[] };
    print(opts.output, body, (b) => (b.pauses.length ? b.pauses.map(pauseLine).join('\n') : 'no GitOps pauses'));
  } catch (err) {
    exitWith(err);
  }
}

export async function gitopsResumeCommand(id: string, opts: { url: string; reason?: string; output: OutputFormat }): Promise<void> {
  try {
    const path = `/api/v1/gitops/pauses/${encodeURIComponent(id)}/resume`;
    const body = (await postToReceiver(opts.url, path, opts.reason ? { reason: opts.reason } : {})) as { message: string; pause: PauseView };
    print(opts.output, body, (b) => `${b.message}\n${pauseLine(b.pause)}`);
  } catch (err) {
    exitWith(err);
  }
}
