/**
 * Alertmanager label matchers (`name="v"`, `!=`, `=~`, `!~`), with regexes fully
 * anchored as Alertmanager anchors them (`^(?:re)$`), and a missing label read as "".
 * Regexes are RE2, as in Alertmanager: linear time whatever the label value, and the
 * same syntax (no lookarounds or backreferences).
 */
import { RE2JS } from 're2js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface Matcher {
  name: string;
  op: MatchOp;
  value: string;
  /** Compiled, anchored RE2 regex for `=~` / `!~`. */
  regex?: RE2JS;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

export class MatcherError extends Error {}

/** Parses one matcher in Alertmanager's syntax; throws MatcherError naming the problem. */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) {
    throw new MatcherError(`"${text}" is not a matcher (expected label="value", label!="value", label=~"re" or label!~"re")`);
  }
  const [, name = '', op = '=', raw = ''] = m;
  const value = unquote(raw, text);
  return makeMatcher(name, op as MatchOp, value);
}

export function makeMatcher(name: string, op: MatchOp, value: string): Matcher {
  if (!LABEL_NAME.test(name)) throw new MatcherError(`"${name}" is not a valid label name`);
  if (op === '=~' || op === '!~') {
    try {
      return { name, op, value, regex: RE2JS.compile(`^(?:${value})$`) };
    } catch (err) {
      throw new MatcherError(`invalid regular expression "${value}" for label ${name}: ${(err as Error).message}`);
    }
  }
  return { name, op, value };
}

function unquote(raw: string, text: string): string {
  if (!raw.startsWith('"')) {
    if (raw.includes('"')) throw new MatcherError(`unbalanced quotes in matcher "${text}"`);
    return raw;
  }
  if (raw.length < 2 || !raw.endsWith('"') || raw.endsWith('\\"') && !raw.endsWith('\\\\"')) {
    throw new MatcherError(`unterminated quoted value in matcher "${text}"`);
  }
  let out = '';
  const body = raw.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      const next = body[++i];
      if (next === 'n') out += '\n';
      else if (next === '"' || next === '\\') out += next;
      else throw new MatcherError(`invalid escape "\\${next ?? ''}" in matcher "${text}"`);
    } else if (c === '"') {
      throw new MatcherError(`unescaped quote inside the value of matcher "${text}"`);
    } else {
      out += c;
    }
  }
  return out;
}

export function matches(matcher: Matcher, labels: Readonly<Record<string, string>>): boolean {
  const actual = labels[matcher.name] ?? '';
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return matcher.regex!.test(actual);
    case '!~':
      return !matcher.regex!.test(actual);
  }
}

export function matchesAll(list: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return list.every((m) => matches(m, labels));
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}
