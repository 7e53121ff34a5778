/** The bench's one table (Markdown, so docs/BENCHMARKS.md can hold it as printed). */
export interface Row {
  section: string;
  case: string;
  /** Webhooks per second. */
  rate?: number;
  p50?: number;
  p99?: number;
  /** Against the bare node:http server with the same payload and concurrency. */
  ratio?: number;
  detail?: string;
}

const HEADER = ['section', 'case', 'webhooks/s', 'p50 ms', 'p99 ms', 'vs bare', 'detail'];

const num = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));

export function formatTable(rows: Row[]): string {
  const lines = rows.map((r) => [r.section, r.case, num(r.rate), num(r.p50, 1), num(r.p99, 1), r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`, r.detail ?? '']);
  const all = [HEADER, HEADER.map(() => '---'), ...lines];
  return all.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** Parses a table formatTable printed back into cells (the smoke test checks the shape with it). */
export function parseTable(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| ---'))
    .map((l) => l.slice(2, -2).split(' | '));
}
