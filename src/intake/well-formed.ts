/**
 * JSON text can carry a lone UTF-16 surrogate (`"\ud800"`) that no real text has: SQLite
 * stores it as U+FFFD, so what was answered and what was recorded would differ. Bodies
 * with one are refused, naming where it is. Iterative, so nesting depth cannot overflow
 * the stack; the path is only spelled out for the value found.
 */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

interface Frame {
  value: unknown;
  key?: string | number;
  parent?: Frame;
}

function pathOf(frame: Frame): string {
  let path = '';
  for (let f: Frame | undefined = frame; f?.key !== undefined; f = f.parent) {
    path = typeof f.key === 'number' ? `[${f.key}]${path}` : `${f.parent?.key === undefined ? '' : '.'}${f.key}${path}`;
  }
  return path;
}

/** The path (`alerts[0].labels.x`) of the first key or string with a lone surrogate, or undefined. */
export function loneSurrogateAt(body: unknown): string | undefined {
  const stack: Frame[] = [{ value: body }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const { value } = frame;
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return pathOf(frame) || '(the body)';
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: frame });
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value).reverse()) {
        if (LONE_SURROGATE.test(key)) return `${pathOf({ value: child, key, parent: frame })} (the key)`;
        stack.push({ value: child, key, parent: frame });
      }
    }
  }
  return undefined;
}
