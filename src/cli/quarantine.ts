/**
 * `quarantine list` / `quarantine clear`: the revisions a running receiver rolled away
 * from (never an automatic destination) and the known-good ones; an operator clears a
 * quarantine when the revision was wrongly blamed.
 */
import { callReceiver } from './client.js';
import { exitWith } from './fail.js';

export async function quarantineListCommand(opts: { url: string; namespace?: string; name?: string; status?: string }): Promise<void> {
  try {
    const url = new URL('/api/v1/quarantine', opts.url);
    for (const key of ['namespace', 'name', 'status'] as const) if (opts[key]) url.searchParams.set(key, opts[key]);
    process.stdout.write(`${JSON.stringify(await callReceiver(url.toString()), null, 2)}\n`);
  } catch (err) {
    exitWith(err);
  }
}

export async function quarantineClearCommand(namespace: string, name: string, revision: string | undefined, opts: { url: string }): Promise<void> {
  try {
    const path = ['/api/v1/quarantine', namespace, name, ...(revision ? [revision] : [])].map(encodeURIComponent).join('/').replace(/%2F/g, '/');
    process.stdout.write(`${JSON.stringify(await callReceiver(new URL(path, opts.url).toString(), { method: 'DELETE' }), null, 2)}\n`);
  } catch (err) {
    exitWith(err);
  }
}
