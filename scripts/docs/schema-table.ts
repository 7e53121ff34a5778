/**
 * zod schemas as documentation rows: each key with its type, default and rules, from
 * z.toJSONSchema (the input side, before defaults and transforms). Field types shared
 * across the schemas (durations, secrets, …) are named and explained once rather than
 * shown as their structure.
 */
import { z } from 'zod';
import { duration, secretRef } from '../../src/config/fields.js';
import { byteSize, matcher, namespaceName } from '../../src/config/schema.js';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: boolean | JsonSchema;
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  /** Set by this generator: a shared field type documented once, not by its structure. */
  'x-kind'?: string;
  /** Set by this generator: the messages of the schema's refinements. */
  'x-rules'?: string[];
}

/** Field types shared across the schema, named and explained once instead of shown as their structure. */
const KINDS: { schema: z.core.$ZodType; name: string; rule: string }[] = [
  { schema: duration, name: 'duration', rule: 'seconds, or a Prometheus-style duration such as `90s`, `5m`, `1h30m`' },
  { schema: byteSize, name: 'size', rule: 'bytes, or a size such as `512kb`, `1mb`' },
  { schema: secretRef, name: 'secret', rule: 'exactly one of `{value: …}`, `{env: VAR}`, `{file: /path}`' },
  { schema: namespaceName, name: 'namespace', rule: 'a Kubernetes namespace name (RFC 1123 label)' },
  { schema: matcher, name: 'matcher', rule: 'an Alertmanager matcher: `label="v"`, `!=`, `=~`, `!~`; regexes fully anchored' },
];

/** The schema itself, or one of its clones (`.refine()` keeps the original as the clone's parent). */
function derivesFrom(schema: z.core.$ZodType, base: z.core.$ZodType): boolean {
  for (let s: { _zod: { parent?: unknown } } | undefined = schema; s; s = s._zod.parent as typeof s) if (s === base) return true;
  return false;
}

function refinementMessages(schema: z.core.$ZodType): string[] {
  const checks = (schema._zod.def as { checks?: { _zod: { def: { check: string; error?: unknown } } }[] }).checks ?? [];
  return checks.flatMap((c) => {
    const { check, error } = c._zod.def;
    const message = check === 'custom' && typeof error === 'function' ? (error as (issue: object) => unknown)({}) : undefined;
    return typeof message === 'string' ? [message] : [];
  });
}

export function toJson(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const target = jsonSchema as JsonSchema;
      const kind = KINDS.find((k) => derivesFrom(zodSchema, k.schema));
      if (kind) {
        for (const key of Object.keys(target)) if (key !== 'default') delete target[key as keyof JsonSchema];
        target['x-kind'] = kind.name;
        return;
      }
      const rules = refinementMessages(zodSchema);
      if (rules.length) target['x-rules'] = [...(target['x-rules'] ?? []), ...rules];
    },
  }) as JsonSchema;
}

export function typeOf(s: JsonSchema): string {
  if (s['x-kind']) return s['x-kind'];
  if (s.anyOf) return [...new Set(s.anyOf.map(typeOf))].join(' or ');
  if (s.enum) return s.enum.map((v) => `\`${String(v)}\``).join(', ');
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  const type = Array.isArray(s.type) ? s.type.join(' or ') : s.type;
  if (type === 'array') {
    if (s.prefixItems) return `[${s.prefixItems.map(typeOf).join(', ')}]`;
    return `list of ${typeof s.items === 'object' && Object.keys(s.items).length ? typeOf(s.items) : 'entries'}`;
  }
  if (type === 'object' && !s.properties && typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties)}`;
  return type ?? 'any';
}

export function rulesOf(s: JsonSchema): string[] {
  const rules: string[] = [];
  const kind = KINDS.find((k) => k.name === s['x-kind']);
  if (kind) rules.push(kind.rule);
  if (s.minimum !== undefined) rules.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) rules.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined && s.maximum !== Number.MAX_SAFE_INTEGER) rules.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined && s.minLength > 1) rules.push(`at least ${s.minLength} characters`);
  if (s.minLength === 1) rules.push('not empty');
  if (s.maxLength !== undefined) rules.push(`at most ${s.maxLength} characters`);
  if (s.pattern) rules.push(`matches \`${s.pattern}\``);
  if (s.format === 'uri') rules.push('a URL');
  if (s.minItems !== undefined && !s.prefixItems) rules.push(s.minItems === 1 ? 'not empty' : `at least ${s.minItems} entries`);
  if (s.propertyNames?.pattern) rules.push(`keys match \`${s.propertyNames.pattern}\``);
  rules.push(...(s['x-rules'] ?? []));
  for (const branch of s.anyOf ?? []) rules.push(...rulesOf(branch).filter((r) => !rules.includes(r)));
  return rules;
}

export interface Row {
  key: string;
  schema: JsonSchema;
  required: boolean;
}

/** Every key under `s`, depth first; map values as `*`, list entries as `[]`, the branches of a union merged. */
export function keysOf(s: JsonSchema, prefix: string, out: Row[]): void {
  const objects = [s, ...(s.anyOf ?? [])].filter((b) => !b['x-kind']);
  for (const branch of objects) {
    for (const [name, child] of Object.entries(branch.properties ?? {})) {
      const key = prefix ? `${prefix}.${name}` : name;
      out.push({ key, schema: child, required: branch.required?.includes(name) ?? false });
      keysOf(child, key, out);
    }
    if (typeof branch.additionalProperties === 'object' && !branch.properties) {
      const key = `${prefix}.*`;
      out.push({ key, schema: branch.additionalProperties, required: false });
      keysOf(branch.additionalProperties, key, out);
    }
    if (typeof branch.items === 'object' && (branch.items.properties || branch.items.anyOf)) keysOf(branch.items, `${prefix}[]`, out);
  }
}

