/**
 * `monitor-deployment`: the seed's `deployment-helpers.sh monitor-deployment`. Opens a
 * monitoring window on the target (or attaches to the one open) in a running receiver
 * and prints each sample as it arrives; exits 0 when the window ends recovered, 1
 * (EXIT.unhealthy) when it breached, escalated or was stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { callReceiver, postToReceiver } from './client.js';
import { EXIT } from './exit-codes.js';
import { CliError, exitWith } from './fail.js';
import type { OutputFormat } from './output.js';

interface Sample {
  at: string;
  metric: string;
  value: number | null;
  state: string;
  detail: string;
}

interface WindowAnswer {
  id: string;
  namespace: string;
  name: string;
  status: string;
  endsAt: string;
  attached?: boolean;
  intervalSeconds: number;
  samples: Sample[];
}

/** One line per event: text for people, or one JSON object per line (`event`: opened, attached, sample, ended) for scripts. */
function eventPrinter(format: OutputFormat) {
  const line = (text: string, event: Record<string, unknown>) => process.stdout.write(`${format === 'json' ? JSON.stringify(event) : text}\n`);
  return {
    start: (w: WindowAnswer) => {
      const event = w.attached ? 'attached' : 'opened';
      line(`${w.attached ? 'attached to' : 'opened'} monitoring window ${w.id} on ${w.namespace}/${w.name} until ${w.endsAt}`, {
        event,
        window: w.id,
        namespace: w.namespace,
        name: w.name,
        endsAt: w.endsAt,
      });
    },
    sample: (w: WindowAnswer, s: Sample) =>
      line(`${s.at}  ${s.metric.padEnd(14)} ${String(s.value ?? 'no data').padEnd(12)} ${s.state.padEnd(8)} ${s.detail}`, { event: 'sample', window: w.id, ...s }),
    end: (w: WindowAnswer) => line(`window ${w.id} ended: ${w.status}`, { event: 'ended', window: w.id, status: w.status }),
  };
}

export async function monitorDeploymentCommand(opts: {
  url: string;
  environment?: string;
  namespace?: string;
  name?: string;
  duration?: number | string;
  output: OutputFormat;
}): Promise<void> {
  try {
    if (!opts.environment && !(opts.namespace && opts.name)) throw new CliError('name the target: --environment E, or --namespace N --name D');
    const printer = eventPrinter(opts.output);
    let w = (await postToReceiver(opts.url, '/api/v1/windows', {
      environment: opts.environment,
      namespace: opts.namespace,
      name: opts.name,
      duration: opts.duration,
    })) as WindowAnswer;
    printer.start(w);
    let printed = 0;
    for (;;) {
      for (const s of w.samples.slice(printed)) printer.sample(w, s);
      printed = w.samples.length;
      if (w.status !== 'active') break;
      await sleep(Math.max(1000, (w.intervalSeconds * 1000) / 2));
      w = (await callReceiver(new URL(`/api/v1/windows/${w.id}`, opts.url).toString())) as WindowAnswer;
    }
    printer.end(w);
    process.exitCode = w.status === 'recovered' ? EXIT.ok : EXIT.unhealthy;
  } catch (err) {
    exitWith(err);
  }
}
