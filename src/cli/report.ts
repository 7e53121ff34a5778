/** `report`: the incident report of a rollback, as Markdown, from a running receiver. */
import { callReceiver } from './client.js';
import { EXIT } from './exit-codes.js';
import { CliError, exitWith } from './fail.js';
import { print, type OutputFormat } from './output.js';

export async function reportCommand(id: string, opts: { url: string; output: OutputFormat }): Promise<void> {
  try {
    const body = await callReceiver(new URL(`/api/v1/rollbacks/${encodeURIComponent(id)}/report`, opts.url).toString());
    if (typeof body !== 'string') throw new CliError(`unexpected answer from the receiver: ${JSON.stringify(body)}`, EXIT.unavailable);
    print(opts.output, { id, markdown: body }, (r) => r.markdown.trimEnd());
  } catch (err) {
    exitWith(err);
  }
}
