/**
 * The one way secrets are read: inline, from an environment variable, or from a file
 * (a mounted Secret), trimmed. Problems name the key and where it looked, never the value.
 */
import { readFileSync } from 'node:fs';

export interface SecretRef {
  value?: string;
  env?: string;
  file?: string;
}

export type SecretResult = { value: string } | { problem: string };
type Env = Record<string, string | undefined>;

export function secretFromFile(file: string, key: string): SecretResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { problem: `${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  const value = text.trim();
  return value ? { value } : { problem: `${key}: ${file} is empty` };
}

export function secretFromEnv(name: string, key: string, env: Env): SecretResult {
  const value = env[name]?.trim();
  return value ? { value } : { problem: `${key}: the environment variable ${name} is not set` };
}

export function resolveSecret(ref: SecretRef, key: string, env: Env): SecretResult {
  if (ref.value !== undefined) return { value: ref.value };
  if (ref.env !== undefined) return secretFromEnv(ref.env, key, env);
  return secretFromFile(ref.file!, key);
}

/** The resolved credentials of an `httpAuth` config block. */
export interface HttpCredentials {
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
}

/** Resolves an `httpAuth` block found at `key`, adding any problem to `problems`. */
export function resolveHttpAuth(
  auth: { bearerToken?: SecretRef; basicAuth?: { username: string; password: SecretRef } },
  key: string,
  env: Env,
  problems: string[],
): HttpCredentials {
  const out: HttpCredentials = {};
  if (auth.bearerToken) {
    const r = resolveSecret(auth.bearerToken, `${key}.bearerToken`, env);
    if ('problem' in r) problems.push(r.problem);
    else out.bearerToken = r.value;
  }
  if (auth.basicAuth) {
    const r = resolveSecret(auth.basicAuth.password, `${key}.basicAuth.password`, env);
    if ('problem' in r) problems.push(r.problem);
    else out.basicAuth = { username: auth.basicAuth.username, password: r.value };
  }
  return out;
}
