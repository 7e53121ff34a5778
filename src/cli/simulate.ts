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
import type { DecisionResponse } from '../intake/response.js';
import { postToReceiver } from './client.js';
import { CliError, exitWith } from './fail.js';
import { print, type OutputFormat } from './output.js';
import { planLines } from './rollback.js';

interface Simulation {
  simulated: true;
  state: string;
  decisions: (DecisionResponse & { plan?: Parameters<typeof planLines>[0] | null })[];
}

function simulationText(s: Simulation): string {
  return [
    `simulated against ${s.state}; nothing was recorded`,
    ...s.decisions.flatMap((d) => [
      `${d.decision.padEnd(17)} ${d.namespace && d.name ? `${d.namespace}/${d.name}` : '-'} (trigger ${d.trigger ?? 'none'}): ${d.reason}`,
      ...(d.plan ? planLines(d.plan).map((l) => `    ${l}`) : []),
    ]),
  ].join('\n');
}

export async function simulateCommand(opts: { file: string; config?: string; url?: string; output: OutputFormat }): Promise<void> {
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
      const answer = (await postToReceiver(opts.url, '/api/v1/simulate', body)) as Omit<Simulation, 'state'>;
      print(opts.output, { ...answer, state: `the live state of ${opts.url}` }, simulationText);
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
    print(opts.output, { simulated: true, state: 'an empty state (offline)', decisions }, simulationText);
  } catch (err) {
    exitWith(err);
  }
}
