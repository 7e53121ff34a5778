/** docs/cli.md from the commander program (src/cli/program.ts) and the exit-code table (src/cli/exit-codes.ts). */
import type { Command } from 'commander';
import { EXIT, EXIT_MEANINGS } from '../../src/cli/exit-codes.js';
import { buildProgram } from '../../src/cli/program.js';
import { GENERATED_NOTE, markdownTable } from './markdown.js';

function commandSection(cmd: Command): string[] {
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)).join(' ');
  const rows = cmd.options.map((o) => {
    const notes = [
      o.mandatory ? 'required' : '',
      o.argChoices ? `one of ${o.argChoices.map((c) => `\`${c}\``).join(', ')}` : '',
      o.defaultValue !== undefined ? `default \`${String(o.defaultValue)}\`` : '',
      o.envVar ? `env \`${o.envVar}\`` : '',
    ].filter(Boolean);
    return [`\`${o.flags}\``, o.description + (notes.length ? ` (${notes.join('; ')})` : '')];
  });
  return [
    `### \`${cmd.name()}\``,
    '',
    `${cmd.description().charAt(0).toUpperCase()}${cmd.description().slice(1)}.`,
    '',
    '```sh',
    `rollback-receiver ${cmd.name()}${args ? ` ${args}` : ''} [options]`,
    '```',
    '',
    ...cmd.registeredArguments.map((a) => `- \`${a.name()}\`: ${a.description}`),
    ...(cmd.registeredArguments.length ? [''] : []),
    ...(rows.length ? [markdownTable(['flag', 'what'], rows), ''] : []),
  ];
}

export function cliDoc(): string {
  const program = buildProgram();
  return [
    '# Command line',
    '',
    GENERATED_NOTE('the commander program in `src/cli/program.ts` and `src/cli/exit-codes.ts`'),
    '',
    '`npx rollback-receiver …` in a clone after `npm ci` (which builds it), `node dist/cli/main.js …` as the image runs it. Commands that talk to a running receiver (`rollback`, `monitor-deployment`, `report`, `status`) send `$ROLLBACK_OPERATOR_TOKEN` as the bearer token and find it at `--url`, else `$ROLLBACK_URL`, else `http://127.0.0.1:9095`; `simulate` asks one only when given `--url`, and decides offline otherwise.',
    '',
    'Every command that prints data prints text for people by default and JSON for scripts with `--output json` (`monitor-deployment`: one JSON object per line, as samples arrive). Errors go to standard error, one line naming what is wrong.',
    '',
    "The seed's `deployment-helpers.sh` commands, one line each:",
    '',
    '```sh',
    'npx rollback-receiver rollback --environment production --rollback-tag v1.1.0 --reason "Performance degradation in v1.2.0"',
    'npx rollback-receiver rollback --environment production --automatic --reason "Health check failures detected"',
    'npx rollback-receiver monitor-deployment --environment production --duration 30m',
    '```',
    '',
    '## Exit codes',
    '',
    markdownTable(
      ['code', 'meaning'],
      (Object.keys(EXIT) as (keyof typeof EXIT)[]).map((k) => [String(EXIT[k]), EXIT_MEANINGS[k]]),
    ),
    '',
    '## Commands',
    '',
    `\`rollback-receiver --version\` prints the version; \`rollback-receiver <command> --help\` the flags. With no command, \`serve\` runs.`,
    '',
    ...program.commands.flatMap(commandSection),
  ].join('\n');
}
