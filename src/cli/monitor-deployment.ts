/**
 * `monitor-deployment`: the seed's `deployment-helpers.sh monitor-deployment`. Opens a
 * monitoring window on the target (or attaches to the one open) in a running receiver
 * and prints each sample as it arrives; exits 0 when the window ends recovered, 1 when
 * it breached or escalated.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { callReceiver } from './client.js';
import { CliError, exitWith } from './fail.js';

interface WindowAnswer {
  id: string;
  namespace: string;
  name: string;
  status: string;
  endsAt: string;
  attached?: boolean;
  intervalSeconds: number;
  samples: { at: string; metric: string; value: number | null; state: string; detail: string }[];
}

export async function monitorDeploymentCommand(opts: { url: string; environment?: string; namespace?: string; name?: string; duration?: string }): Promise<void> {
  try {
    if (!opts.environment && !(opts.namespace && opts.name)) throw new CliError('name the target: --environment E, or --namespace N --name D');
    const start = (await callReceiver(new URL('/api/v1/windows', opts.url).toString(), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ environment: opts.environment, namespace: opts.namespace, name: opts.name, duration: opts.duration }),
    })) as WindowAnswer;
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(`${start.attached ? 'attached to' : 'opened'} monitoring window ${start.id} on ${start.namespace}/${start.name} until ${start.endsAt}`);
    let printed = 0;
    let w = start;
    for (;;) {
      for (const s of w.samples.slice(printed)) out(`${s.at}  ${s.metric.padEnd(14)} ${String(s.value ?? 'no data').padEnd(12)} ${s.state.padEnd(8)} ${s.detail}`);
      printed = w.samples.length;
      if (w.status !== 'active') break;
      await sleep(Math.max(1000, (w.intervalSeconds * 1000) / 2));
      w = (await callReceiver(new URL(`/api/v1/windows/${w.id}`, opts.url).toString())) as WindowAnswer;
    }
    out(`window ${w.id} ended: ${w.status}`);
    process.exitCode = w.status === 'recovered' ? 0 : 1;
  } catch (err) {
    exitWith(err);
  }
}
