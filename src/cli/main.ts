#!/usr/bin/env node
/** The `rollback-receiver` command. */
import { Command } from 'commander';
import { portArg, revisionArg, urlArg } from './args.js';
import { monitorDeploymentCommand } from './monitor-deployment.js';
import { quarantineClearCommand, quarantineListCommand } from './quarantine.js';
import { reportCommand } from './report.js';
import { rollbackCommand } from './rollback.js';
import { VERSION } from '../version.js';
import { checkConfigCommand } from './check-config.js';
import { serveCommand } from './serve.js';
import { simulateCommand } from './simulate.js';
import { statusCommand } from './status.js';

const program = new Command()
  .name('rollback-receiver')
  .description('Turns Prometheus Alertmanager alerts into safe, verified Kubernetes rollbacks')
  .version(VERSION)
  .showHelpAfterError();

program
  .command('serve', { isDefault: true })
  .description('run the webhook receiver (dry-run unless ROLLBACK_DRY_RUN=false or rollback.dryRun: false)')
  .option('-c, --config <path>', 'YAML config file (default: $ROLLBACK_CONFIG, else built-in defaults)')
  .option('-p, --port <port>', 'listen port (default: $PORT, else server.port, else 9095)', portArg)
  .action(serveCommand);

program
  .command('check-config')
  .description('validate a config file and print what it enables')
  .option('-c, --config <path>', 'YAML config file (default: $ROLLBACK_CONFIG, else built-in defaults)')
  .action(checkConfigCommand);

program
  .command('simulate')
  .description('show the decisions an Alertmanager payload would get, recording nothing')
  .requiredOption('-f, --file <path>', 'Alertmanager webhook payload (JSON); "-" reads standard input')
  .option('-c, --config <path>', 'decide offline with this config against an empty state')
  .option('-u, --url <url>', 'ask a running receiver instead (its live state); token from $ROLLBACK_OPERATOR_TOKEN', urlArg)
  .action(simulateCommand);

program
  .command('rollback')
  .description('roll a workload back through a running receiver (manual, --automatic or --emergency)')
  .option('-u, --url <url>', 'receiver base URL; operator token from $ROLLBACK_OPERATOR_TOKEN', urlArg, 'http://127.0.0.1:9095')
  .option('-e, --environment <name>', "an environment from the config's environments map")
  .option('-n, --namespace <namespace>', 'the namespace (instead of --environment)')
  .option('--name <name>', 'the workload (Deployment, Service for blue-green, base name for scale-swap)')
  .option('-s, --strategy <strategy>', 'deployment-undo, blue-green or scale-swap (default: the environment\'s, else deployment-undo)')
  .option('--to-revision <n>', 'deployment-undo: the revision to restore', revisionArg)
  .option('--rollback-tag <tag>', 'deployment-undo: restore the newest revision running this image tag')
  .requiredOption('-r, --reason <text>', 'why (kept in the record, the events and the report)')
  .option('--automatic', 'an automatic rollback: held by the same guards as alerts (opt-in, freeze, cooldown, retries, brake, stale, quarantine)')
  .option('--detected-at <time>', '--automatic: when the problem was detected (RFC 3339); refused as stale if the workload changed since')
  .option('--emergency', 'no validation, no waiting: switch traffic / scale down at once, force-delete failed pods')
  .option('--dry-run', 'print the exact API requests a live run would send; change nothing')
  .action(rollbackCommand);

program
  .command('monitor-deployment')
  .description('watch a workload through Prometheus in a running receiver, printing samples as they arrive')
  .option('-u, --url <url>', 'receiver base URL; operator token from $ROLLBACK_OPERATOR_TOKEN', urlArg, 'http://127.0.0.1:9095')
  .option('-e, --environment <name>', "an environment from the config's environments map")
  .option('-n, --namespace <namespace>', 'the namespace (instead of --environment)')
  .option('--name <name>', 'the workload')
  .option('-d, --duration <duration>', 'how long (e.g. 30m; default monitoring.enhanced.duration)')
  .action(monitorDeploymentCommand);

program
  .command('report')
  .description('print the incident report of a rollback (Markdown)')
  .argument('<rollback-id>', 'the rollback id (GET /api/v1/rollbacks lists them)')
  .option('-u, --url <url>', 'receiver base URL', urlArg, 'http://127.0.0.1:9095')
  .action(reportCommand);

const quarantine = program.command('quarantine').description('revisions the receiver rolled away from (never an automatic destination) and known-good ones');
quarantine
  .command('list')
  .description('list quarantined, installed and known-good revisions')
  .option('-u, --url <url>', 'receiver base URL; operator token from $ROLLBACK_OPERATOR_TOKEN', urlArg, 'http://127.0.0.1:9095')
  .option('-n, --namespace <namespace>', 'only this target (with --name)')
  .option('--name <name>', 'only this target (with --namespace)')
  .option('--status <status>', 'bad, installed or known-good')
  .action(quarantineListCommand);
quarantine
  .command('clear')
  .description('clear the quarantine of one revision, or of every bad revision of a target')
  .argument('<namespace>')
  .argument('<name>')
  .argument('[revision]', 'a revision id from `quarantine list` (default: all of the target)')
  .option('-u, --url <url>', 'receiver base URL; operator token from $ROLLBACK_OPERATOR_TOKEN', urlArg, 'http://127.0.0.1:9095')
  .action(quarantineClearCommand);

program
  .command('status')
  .description("print a running receiver's status")
  .option('-u, --url <url>', 'receiver base URL', urlArg, 'http://127.0.0.1:9095')
  .action(statusCommand);

await program.parseAsync(process.argv);
