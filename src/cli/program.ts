/** The `rollback-receiver` command line: every command, flag and exit code (docs/cli.md is generated from it). */
import { Command, Option } from 'commander';
import { STRATEGIES } from '../model.js';
import { VERSION } from '../version.js';
import { durationArg, portArg, revisionArg, urlArg } from './args.js';
import { EXIT } from './exit-codes.js';
import { outputOption } from './output.js';

const DEFAULT_URL = 'http://127.0.0.1:9095';

// Each command's module loads when the command runs, so `status` or `rollback` start
// quickly without loading what `serve` needs (the Kubernetes client, SQLite, express).

function urlOption(what = 'receiver base URL'): Option {
  return new Option('-u, --url <url>', `${what}; operator token from $ROLLBACK_OPERATOR_TOKEN`).env('ROLLBACK_URL').argParser(urlArg).default(DEFAULT_URL);
}

export function buildProgram(): Command {
  const program = new Command()
    .name('rollback-receiver')
    .description('Turns Prometheus Alertmanager alerts into safe, verified Kubernetes rollbacks')
    .version(VERSION)
    .showHelpAfterError()
    // Inherited by every command: commander's own usage errors exit 2 like ours; help and --version exit 0.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage));

  program
    .command('serve', { isDefault: true })
    .description('run the webhook receiver (dry-run unless ROLLBACK_DRY_RUN=false or rollback.dryRun: false)')
    .option('-c, --config <path>', 'YAML config file (default: $ROLLBACK_CONFIG, else built-in defaults)')
    .option('-p, --port <port>', 'listen port (default: $PORT, else server.port, else 9095)', portArg)
    .action(async (opts) => (await import('./serve.js')).serveCommand(opts));

  program
    .command('check-config')
    .description('validate a config file and print what it enables')
    .option('-c, --config <path>', 'YAML config file (default: $ROLLBACK_CONFIG, else built-in defaults)')
    .addOption(outputOption())
    .action(async (opts) => (await import('./check-config.js')).checkConfigCommand(opts));

  program
    .command('simulate')
    .description('show the decisions an Alertmanager payload would get, recording nothing')
    .requiredOption('-f, --file <path>', 'Alertmanager webhook payload (JSON); "-" reads standard input')
    .option('-c, --config <path>', 'decide offline with this config against an empty state')
    .addOption(new Option('-u, --url <url>', "ask a running receiver instead (its live state); token from $ROLLBACK_OPERATOR_TOKEN").argParser(urlArg))
    .addOption(outputOption())
    .action(async (opts) => (await import('./simulate.js')).simulateCommand(opts));

  program
    .command('rollback')
    .description('roll a workload back through a running receiver (manual, --automatic or --emergency)')
    .addOption(urlOption())
    .option('-e, --environment <name>', "an environment from the config's environments map")
    .option('-n, --namespace <namespace>', 'the namespace (instead of --environment)')
    .option('--name <name>', 'the workload (Deployment, Service for blue-green, base name for scale-swap)')
    .addOption(new Option('-s, --strategy <strategy>', "the strategy (default: the environment's, else deployment-undo)").choices(STRATEGIES))
    .option('--to-revision <n>', 'deployment-undo, helm: the revision to restore (helm: 0 = the current one − 1)', revisionArg)
    .option('--rollback-tag <tag>', 'deployment-undo: restore the newest revision running this image tag')
    .requiredOption('-r, --reason <text>', 'why (kept in the record, the events and the report)')
    .option('--automatic', 'an automatic rollback: held by the same guards as alerts (opt-in, freeze, cooldown, retries, brake, stale, quarantine)')
    .option('--detected-at <time>', '--automatic: when the problem was detected (RFC 3339); refused as stale if the workload changed since')
    .option('--emergency', 'no validation, no waiting: switch traffic / scale down at once, force-delete failed pods')
    .option('--dry-run', 'print the exact API requests a live run would send; change nothing')
    .addOption(outputOption())
    .action(async (opts) => (await import('./rollback.js')).rollbackCommand(opts));

  program
    .command('monitor-deployment')
    .description('watch a workload through Prometheus in a running receiver, printing samples as they arrive')
    .addOption(urlOption())
    .option('-e, --environment <name>', "an environment from the config's environments map")
    .option('-n, --namespace <namespace>', 'the namespace (instead of --environment)')
    .option('--name <name>', 'the workload')
    .option('-d, --duration <duration>', 'how long (e.g. 30m; default monitoring.enhanced.duration)', durationArg)
    .addOption(outputOption('text for people; json for scripts: one JSON object per line as samples arrive'))
    .action(async (opts) => (await import('./monitor-deployment.js')).monitorDeploymentCommand(opts));

  program
    .command('report')
    .description('print the incident report of a rollback (Markdown)')
    .argument('<rollback-id>', 'the rollback id (GET /api/v1/rollbacks lists them)')
    .addOption(urlOption())
    .addOption(outputOption())
    .action(async (id: string, opts) => (await import('./report.js')).reportCommand(id, opts));

  const quarantine = program.command('quarantine').description('revisions the receiver rolled away from (never an automatic destination) and known-good ones');
  quarantine
    .command('list')
    .description('list bad (quarantined), installed and known-good revisions')
    .addOption(urlOption())
    .option('-n, --namespace <namespace>', 'only this target (with --name)')
    .option('--name <name>', 'only this target (with --namespace)')
    .addOption(new Option('--status <status>', 'only revisions with this status').choices(['bad', 'installed', 'known-good']))
    .addOption(outputOption())
    .action(async (opts) => (await import('./quarantine.js')).quarantineListCommand(opts));
  quarantine
    .command('clear')
    .description('clear the quarantine of one revision, or of every bad revision of a target')
    .argument('<namespace>')
    .argument('<name>')
    .argument('[revision]', 'a revision id from `quarantine list` (default: every bad revision of the target)')
    .addOption(urlOption())
    .addOption(outputOption())
    .action(async (namespace: string, name: string, revision: string | undefined, opts) => (await import('./quarantine.js')).quarantineClearCommand(namespace, name, revision, opts));

  const gitops = program.command('gitops').description('Argo CD / Flux reconciliations paused by rollbacks (gitops: in the config)');
  gitops
    .command('list')
    .description('list GitOps pauses: the object, the value the pause removed, since when')
    .addOption(urlOption())
    .addOption(new Option('--status <status>', 'in force (paused, the default), resumed, or all').choices(['paused', 'resumed', 'all']))
    .addOption(outputOption())
    .action(async (opts) => (await import('./gitops.js')).gitopsListCommand(opts));
  gitops
    .command('resume')
    .description('resume one: restore exactly what the pause removed (recorded, an Event and a notification)')
    .argument('<pause-id>', 'a pause id from `gitops list`')
    .option('-r, --reason <text>', 'why (kept in the record)')
    .addOption(urlOption())
    .addOption(outputOption())
    .action(async (id: string, opts) => (await import('./gitops.js')).gitopsResumeCommand(id, opts));

  program
    .command('status')
    .description("print a running receiver's status")
    .addOption(urlOption())
    .addOption(outputOption())
    .action(async (opts) => (await import('./status.js')).statusCommand(opts));

  return program;
}
