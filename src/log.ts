/**
 * pino JSON logs. Request logs carry method, path, status and timing only: never
 * headers, so no Authorization value can reach a log line.
 */
import { pino, type Logger } from 'pino';

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'rollback-receiver' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['*.authorization', '*.headers', 'token', '*.token', 'password', '*.password'], censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination as pino.DestinationStream | undefined,
  );
}

export type { Logger };
