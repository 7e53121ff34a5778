/**
 * `simulate`: the decisions a payload would get. Offline (config + empty state, nothing
 * written anywhere) or against a running receiver's live state with --url.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import { decide } from '../decide.js';
import { parsePayload } from '../intake/parse.js';
import { toResponse } from '../intake/response.js';
import { StateIndex } from '../store/state-index.js';
import { callReceiver } from './client.js';
import { CliError, exitWith } from './fail.js';

export async function simulateCommand(opts: { file: string; config?: string; url?: string }): Promise<void> {
  try {
    if (opts.url && opts.config) throw new CliError('use --config (offline) or --url (a running receiver), not both');
    let text: string;
    try {
      text = readFileSync(opts.file === '-' ? 0 : opts.file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${opts.file}: ${(err as Error).message}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new CliError(`${opts.file} is not JSON: ${(err as Error).message}`);
    }
    if (opts.url) {
      const answer = await callReceiver(new URL('/api/v1/simulate', opts.url).toString(), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
      return;
    }
    const parsed = parsePayload(body);
    if (!parsed.ok) throw new CliError(`invalid Alertmanager webhook payload:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`);
    const config = loadConfig(opts.config);
    const state = new StateIndex().layer();
    const now = Date.now();
    let n = 0;
    const decisions = parsed.payload.alerts.map((alert) => {
      const d = decide({ alert, group: parsed.payload.group, config, state, now, cluster: null, newId: () => `simulated-${++n}` });
      for (const e of d.effects) state.apply(e);
      return { ...toResponse(d), rollbackId: undefined };
    });
    process.stdout.write(`${JSON.stringify({ simulated: true, state: 'empty (offline)', decisions }, null, 2)}\n`);
  } catch (err) {
    exitWith(err);
  }
}
