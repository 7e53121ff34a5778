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
