#!/usr/bin/env node
/** The `rollback-receiver` command. */
import { Command } from 'commander';
import { portArg, urlArg } from './args.js';
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
  .command('status')
  .description("print a running receiver's status")
  .option('-u, --url <url>', 'receiver base URL', urlArg, 'http://127.0.0.1:9095')
  .action(statusCommand);

await program.parseAsync(process.argv);
