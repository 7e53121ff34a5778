/** Known, user-facing failures print their message and exit non-zero; anything else is a bug and keeps its stack. */
import { ConfigError } from '../config/load.js';
import { CredentialsError } from '../http/auth.js';
import { StartupError } from '../service.js';

export class CliError extends Error {}

export function exitWith(err: unknown): never {
  if (err instanceof ConfigError || err instanceof StartupError || err instanceof CredentialsError || err instanceof CliError) {
    process.stderr.write(`rollback-receiver: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`rollback-receiver: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
