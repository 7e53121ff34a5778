/**
 * A monitoring window's samples of one metric as an inline SVG: the values over the
 * window's time span, the threshold as a dashed line, each sample a dot coloured by its
 * state (unknown samples sit on the baseline, hollow: no value is not a healthy value).
 */
import type { SampleState } from '../store/records.js';
import { html, type SafeHtml } from './html.js';

interface ChartSample {
  at: number;
  value: number | null;
  state: SampleState;
}

const WIDTH = 300;
const HEIGHT = 90;
const PAD = 6;

/** Four significant digits: enough to compare with a threshold, short enough for a label. */
export function shortNumber(value: number): string {
  return String(Number(value.toPrecision(4)));
}

export function sampleChart(opts: { metric: string; samples: readonly ChartSample[]; threshold: number | null; from: number; to: number }): SafeHtml {
  const { metric, samples, threshold, from, to } = opts;
  const known = samples.filter((s): s is ChartSample & { value: number } => s.value !== null && Number.isFinite(s.value));
  const top = Math.max(threshold ?? 0, ...known.map((s) => s.value)) * 1.25 || 1;
  const span = Math.max(1, to - from);
  const x = (at: number) => PAD + (Math.min(Math.max(at, from), to) - from) / span * (WIDTH - 2 * PAD);
  const y = (value: number) => HEIGHT - PAD - (Math.max(0, value) / top) * (HEIGHT - 2 * PAD);
  const round = (n: number) => Math.round(n * 10) / 10;
  const points = known.map((s) => `${round(x(s.at))},${round(y(s.value))}`).join(' ');
  const label = `${metric}: ${samples.length} sample${samples.length === 1 ? '' : 's'}${threshold === null ? ', no threshold' : `, threshold ${shortNumber(threshold)}`}`;
  return html`<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${label}" data-metric="${metric}">
<line class="axis" x1="${PAD}" y1="${HEIGHT - PAD}" x2="${WIDTH - PAD}" y2="${HEIGHT - PAD}"/>
${threshold === null ? '' : html`<line class="threshold" x1="${PAD}" y1="${round(y(threshold))}" x2="${WIDTH - PAD}" y2="${round(y(threshold))}" data-threshold="${threshold}"/><text class="threshold-label" x="${WIDTH - PAD}" y="${round(y(threshold)) - 3}" text-anchor="end">threshold ${shortNumber(threshold)}</text>`}
${known.length > 1 ? html`<polyline class="series" points="${points}"/>` : ''}
${samples.map(
  (s) =>
    html`<circle class="sample ${s.state}" cx="${round(x(s.at))}" cy="${s.value === null ? HEIGHT - PAD : round(y(s.value))}" r="3"><title>${new Date(s.at).toISOString().slice(11, 19)} ${metric} ${s.value === null ? 'no data' : shortNumber(s.value)} (${s.state})</title></circle>`,
)}
</svg>`;
}
