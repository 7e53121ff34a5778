/** Secrets in config: inline, from an environment variable, or from a file (a mounted Secret). Never logged. */
import { readFileSync } from 'node:fs';

export interface SecretRef {
  value?: string;
  env?: string;
  file?: string;
}

type Env = Record<string, string | undefined>;

/** The secret's value, or a problem naming `key` (and never the value). */
export function resolveSecret(ref: SecretRef, key: string, env: Env): { value: string } | { problem: string } {
  if (ref.value !== undefined) return { value: ref.value };
  if (ref.env !== undefined) {
    const v = env[ref.env];
    return v ? { value: v } : { problem: `${key}: environment variable ${ref.env} is not set` };
  }
  try {
    const v = readFileSync(ref.file!, 'utf8').trim();
    return v ? { value: v } : { problem: `${key}: ${ref.file} is empty` };
  } catch (err) {
    return { problem: `${key}: cannot read ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
  }
}
