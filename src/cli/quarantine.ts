/**
 * `quarantine list` / `quarantine clear`: the revisions a running receiver rolled away
 * from (never an automatic destination) and the known-good ones; an operator clears a
 * quarantine when the revision was wrongly blamed.
 */
import type { revisionView } from '../api/quarantine.js';
import { callReceiver } from './client.js';
import { exitWith } from './fail.js';
import { print, type OutputFormat } from './output.js';

type RevisionView = ReturnType<typeof revisionView>;

function revisionLine(r: RevisionView): string {
  return `${r.namespace}/${r.name}  ${r.status.padEnd(10)}  ${r.revision}  ${r.label}  since ${r.since}${r.rollbackId ? ` (rollback ${r.rollbackId})` : ''}`;
}

export async function quarantineListCommand(opts: { url: string; namespace?: string; name?: string; status?: string; output: OutputFormat }): Promise<void> {
  try {
    const url = new URL('/api/v1/quarantine', opts.url);
    for (const key of ['namespace', 'name', 'status'] as const) if (opts[key]) url.searchParams.set(key, opts[key]);
    const body = (await callReceiver(url.toString())) as { revisions: RevisionView[] };
    print(opts.output, body, (b) => (b.revisions.length ? b.revisions.map(revisionLine).join('\n') : 'no revisions on record'));
  } catch (err) {
    exitWith(err);
  }
}

export async function quarantineClearCommand(namespace: string, name: string, revision: string | undefined, opts: { url: string; output: OutputFormat }): Promise<void> {
  try {
    const path = ['', 'api', 'v1', 'quarantine', namespace, name, ...(revision ? [revision] : [])].map(encodeURIComponent).join('/');
    const body = (await callReceiver(new URL(path, opts.url).toString(), { method: 'DELETE' })) as { message: string; cleared: RevisionView[] };
    print(opts.output, body, (b) => [b.message, ...b.cleared.map(revisionLine)].join('\n'));
  } catch (err) {
    exitWith(err);
  }
}
