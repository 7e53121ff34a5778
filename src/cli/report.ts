/** `report`: the incident report of a rollback, as Markdown, from a running receiver. */
import { callReceiver } from './client.js';
import { CliError, exitWith } from './fail.js';

export async function reportCommand(id: string, opts: { url: string }): Promise<void> {
  try {
    const body = await callReceiver(new URL(`/api/v1/rollbacks/${encodeURIComponent(id)}/report`, opts.url).toString());
    if (typeof body !== 'string') throw new CliError(`unexpected answer: ${JSON.stringify(body)}`);
    process.stdout.write(body);
  } catch (err) {
    exitWith(err);
  }
}
