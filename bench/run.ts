/**
 * `npm run bench`: intake throughput against baselines, time to act, a storm, memory —
 * one table on stdout (progress on stderr). Flags:
 *   --quick                 tiny counts and 1 s runs (the smoke test; figures meaningless)
 *   --sections a,b          any of intake, memory, act, storm (default: all)
 *   --duration S            seconds per intake cell (default 8)
 *   --servers a,b           intake servers: any of bare, express, receiver (default: all)
 *   --alerts 1,10,100       intake payload sizes; --connections 1,10,64 intake concurrencies
 *   --cpu-prof DIR          write the receiver's CPU profile of the intake section to DIR
 */
import { parseArgs } from 'node:util';
import { benchCluster } from './cluster.js';
import { benchIntake, type IntakeCell, type ServerKind } from './intake.js';
import { benchMemory } from './memory.js';
import { machine } from './servers.js';
import { formatTable, type Row } from './table.js';

const SECTIONS = ['intake', 'memory', 'act', 'storm'] as const;
type Section = (typeof SECTIONS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sections: { type: 'string', default: SECTIONS.join(',') },
    duration: { type: 'string' },
    servers: { type: 'string', default: 'bare,express,receiver' },
    alerts: { type: 'string' },
    connections: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});

const sections = values.sections.split(',').map((s) => s.trim()) as Section[];
for (const s of sections) {
  if (!SECTIONS.includes(s)) {
    process.stderr.write(`unknown section "${s}" (one of ${SECTIONS.join(', ')})\n`);
    process.exit(2);
  }
}
const quick = values.quick;
const durationSec = Number(values.duration ?? (quick ? 1 : 8));
const list = (text: string) => text.split(',').map(Number);
const progress = (line: string) => process.stderr.write(`[bench] ${line}\n`);

function intakeRows(cells: IntakeCell[]): Row[] {
  const bare = (c: IntakeCell) => cells.find((b) => b.server === 'bare' && b.alertsPerWebhook === c.alertsPerWebhook && b.connections === c.connections && !b.rate);
  return cells.map((c) => ({
    section: 'intake',
    case: `${c.server}, ${c.alertsPerWebhook} alert${c.alertsPerWebhook > 1 ? 's' : ''}, c${c.connections}${c.rate ? `, fixed ${c.rate}/s` : ''}`,
    rate: c.perSecond,
    p50: c.p50,
    p99: c.p99,
    ratio: c.server !== 'bare' && !c.rate && bare(c) ? c.perSecond / bare(c)!.perSecond : undefined,
    detail: `${c.requests} webhooks${c.non2xx ? `, ${c.non2xx} not 2xx` : ''}${c.errors ? `, ${c.errors} errors` : ''}`,
  }));
}

async function main(): Promise<void> {
  const m = machine();
  progress(`${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB, Node ${m.node}, load ${m.load.map((l) => l.toFixed(2)).join(' ')}`);
  const rows: Row[] = [];
  if (sections.includes('intake')) {
    const cpuProf = values['cpu-prof'];
    const cells = await benchIntake({
      durationSec,
      servers: values.servers.split(',') as ServerKind[],
      alertSizes: list(values.alerts ?? '1,10,100'),
      concurrencies: list(values.connections ?? (quick ? '1,10' : '1,10,64')),
      fixedRate: 500,
      receiverNodeArgs: cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}`] : [],
      progress,
    });
    rows.push(...intakeRows(cells));
  }
  if (sections.includes('memory')) {
    const points = await benchMemory({ webhooks: quick ? 10 : 1000, alertsPerWebhook: 100, retentionSec: quick ? 5 : 20, progress });
    for (const p of points) rows.push({ section: 'memory', case: p.phase, detail: `RSS ${p.rssMiB.toFixed(1)} MiB, heap ${p.heapMiB.toFixed(1)} MiB, ${p.stored} decisions stored` });
  }
  if (sections.includes('act') || sections.includes('storm')) {
    const r = await benchCluster({
      actAlerts: sections.includes('act') ? (quick ? 3 : 50) : 0,
      blueGreens: sections.includes('act') ? (quick ? 1 : 5) : 0,
      storm: sections.includes('storm') ? (quick ? { targets: 5, resends: 4 } : { targets: 100, resends: 100 }) : undefined,
      progress,
    });
    if (r.act) rows.push({ section: 'time to act', case: 'alert → first PATCH of the Deployment (deployment-undo, actAfter 0)', p50: r.act.p50, p99: r.act.p99, detail: `${r.act.samples.length} alerts, max ${r.act.max} ms` });
    if (r.blueGreen) rows.push({ section: 'time to act', case: 'emergency blue-green request → Service selector switched', p50: r.blueGreen.p50, p99: r.blueGreen.p99, detail: `${r.blueGreen.samples.length} requests, max ${r.blueGreen.max} ms` });
    if (r.storm) {
      const s = r.storm;
      const decisions = Object.entries(s.decisions).map(([d, n]) => `${d} ${n}`).join(', ');
      rows.push({ section: 'storm', case: `${s.alerts} alerts (${s.targets} targets × ${s.alerts / s.targets} re-sends), brake 1,000`, rate: s.webhooks / (s.sentMs / 1000), detail: `${s.webhooks} webhooks answered in ${s.sentMs} ms, drained in ${s.drainedMs} ms; decisions: ${decisions}; rolled back in the cluster ${s.rolledBack}/${s.targets}, Deployment PATCHes ${s.patches}` });
    }
  }
  const after = machine();
  process.stdout.write(`${formatTable(rows)}\n`);
  process.stdout.write(`\n${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB, Node ${m.node}; load average ${after.load.map((l) => l.toFixed(2)).join(' ')} at the end\n`);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
