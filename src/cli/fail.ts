/**
 * Known, user-facing failures print their message and exit with the code of their kind
 * (exit-codes.ts); anything else is a bug and keeps its stack.
 */
import { ConfigError } from '../config/load.js';
import { CredentialsError } from '../http/auth.js';
import { StartupError } from '../service.js';
import { EXIT, type ExitCode } from './exit-codes.js';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.usage,
  ) {
    super(message);
  }
}

export function exitWith(err: unknown): never {
  if (err instanceof CliError) {
    process.stderr.write(`rollback-receiver: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  if (err instanceof ConfigError || err instanceof StartupError || err instanceof CredentialsError) {
    process.stderr.write(`rollback-receiver: ${err.message}\n`);
    process.exit(EXIT.usage);
  }
  process.stderr.write(`rollback-receiver: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(EXIT.internal);
}
