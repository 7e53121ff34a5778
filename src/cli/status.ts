/** `status`: what a running receiver says about itself. */
import { callReceiver } from './client.js';
import { exitWith } from './fail.js';

export async function statusCommand(opts: { url: string }): Promise<void> {
  try {
    const body = await callReceiver(new URL('/api/v1/status', opts.url).toString());
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  } catch (err) {
    exitWith(err);
  }
}
