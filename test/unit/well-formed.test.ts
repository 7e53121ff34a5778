import { loneSurrogateAt } from '../../src/intake/well-formed.js';

describe('loneSurrogateAt', () => {
  it('passes text with astral characters, NUL and right-to-left marks', () => {
    expect(loneSurrogateAt({ labels: { a: '\u{1F600} \u0000 \u202Eabc', '\u{10FFFF}': 'x' }, list: ['\uD83D\uDE00'] })).toBeUndefined();
  });

  it.each([
    [{ alerts: [{ labels: { deployment: 'api\uD800' } }] }, 'alerts[0].labels.deployment'],
    [{ alerts: [{}, { labels: { x: '\uDC00lead' } }] }, 'alerts[1].labels.x'],
    [{ reason: 'ok', note: ['a', 'b\uDBFF'] }, 'note[1]'],
    [{ labels: { 'n\uD800': 'v' } }, 'labels.n\uD800 (the key)'],
    ['\uDFFF', '(the body)'],
  ])('names where a lone surrogate is', (body, path) => {
    expect(loneSurrogateAt(body)).toBe(path);
  });

  it('walks nesting far deeper than the call stack allows', () => {
    let deep: unknown = '\uD800';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(loneSurrogateAt(deep)).toBe('[0]'.repeat(200_000));
  });
});
