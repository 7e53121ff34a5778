import { formatMatcher, matches, MatcherError, parseMatcher } from '../../src/matching/matchers.js';

describe('Alertmanager matchers', () => {
  const labels = { alertname: 'HighErrorRate', namespace: 'prod', severity: 'critical' };

  it.each([
    ['namespace="prod"', true],
    ['namespace="staging"', false],
    ['namespace!="staging"', true],
    ['namespace!="prod"', false],
    ['alertname=~"High.*"', true],
    ['alertname=~"Error"', false], // anchored: a substring is not a match
    ['alertname!~"Error"', true],
    ['alertname!~"High.*Rate"', false],
    ['missing=""', true], // a missing label reads as ""
    ['missing!=""', false],
    ['missing=~".*"', true],
    ['severity=~"critical|page"', true],
    ['namespace=prod', true], // unquoted values, as amtool accepts
  ])('%s → %s', (text, expected) => {
    expect(matches(parseMatcher(text), labels)).toBe(expected);
  });

  it('anchors alternations as a whole, like Alertmanager (^(?:a|b)$)', () => {
    const m = parseMatcher('severity=~"crit|page"');
    expect(matches(m, { severity: 'critical' })).toBe(false);
    expect(matches(m, { severity: 'crit' })).toBe(true);
  });

  it('unescapes quoted values', () => {
    expect(parseMatcher('receiver="rollback\\\\.receiver \\"x\\""').value).toBe('rollback\\.receiver "x"');
    expect(parseMatcher('a="line\\nbreak"').value).toBe('line\nbreak');
  });

  it.each([
    ['no operator', 'namespace'],
    ['bad label name', '1abc="x"'],
    ['bad regex', 'a=~"("'],
    ['unterminated quote', 'a="x'],
    ['bad escape', 'a="\\q"'],
    ['unescaped inner quote', 'a="x"y"'],
  ])('rejects %s with a message naming it', (_what, text) => {
    expect(() => parseMatcher(text)).toThrow(MatcherError);
  });

  it('formats back to Alertmanager syntax', () => {
    expect(formatMatcher(parseMatcher('a=~"x.*"'))).toBe('a=~"x.*"');
  });
});

describe('RE2 semantics, as in Alertmanager', () => {
  it('rejects what RE2 does not have (lookarounds, backreferences) with a clear error', () => {
    expect(() => parseMatcher('alertname=~"(?=High).*"')).toThrow(MatcherError);
    expect(() => parseMatcher('alertname=~"(a)\\\\1"')).toThrow(/invalid regular expression/);
  });

  it('matches a pathological pattern against a long label in linear time: no catastrophic backtracking', () => {
    // (a+)+$ on "aaaa…b" takes exponential time in a backtracking engine; RE2 answers at once.
    const m = parseMatcher('alertname=~"(a+)+"');
    expect(matches(m, { alertname: `${'a'.repeat(50_000)}b` })).toBe(false);
    expect(matches(m, { alertname: 'a'.repeat(50_000) })).toBe(true);
  });
});
