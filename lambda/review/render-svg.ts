/**
 * The review's chart: the alarm metric against its threshold, the traffic steps, the alarms and the rollback.
 * Plain SVG, no scripts, every text escaped: it is opened from S3 by people.
 */
export interface ChartInput {
  readonly title: string;
  /** ISO-8601 window. */
  readonly start: string;
  readonly end: string;
  readonly points: readonly { readonly at: string; readonly value: number }[];
  readonly threshold?: { readonly value: number; readonly comparison: '>' | '<' };
  readonly steps: readonly { readonly at: string; readonly percent: number }[];
  readonly alarms: readonly { readonly at: string; readonly name: string }[];
  readonly rollbackAt?: string;
}

const W = 760;
const H = 320;
const PAD = { left: 64, right: 24, top: 40, bottom: 48 };

export function renderChartSvg(c: ChartInput): string {
  const t0 = Date.parse(c.start);
  const t1 = Math.max(Date.parse(c.end), t0 + 1000);
  const values = [...c.points.map((p) => p.value), ...(c.threshold ? [c.threshold.value] : [])].filter(Number.isFinite);
  const vmax = Math.max(...values, 0) * 1.15 || 1;
  const vmin = Math.min(...values, 0);
  const x = (t: string) => round1(PAD.left + ((clamp(Date.parse(t), t0, t1) - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
  const y = (v: number) => round1(H - PAD.bottom - ((v - vmin) / (vmax - vmin || 1)) * (H - PAD.top - PAD.bottom));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(c.title)}">`,
    `<title>${esc(c.title)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="22" font-family="sans-serif" font-size="14">${esc(c.title)}</text>`,
    // Axes
    `<g data-role="axes" stroke="#444444" stroke-width="1">`,
    `<line x1="${PAD.left}" y1="${H - PAD.bottom}" x2="${W - PAD.right}" y2="${H - PAD.bottom}"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${H - PAD.bottom}"/>`,
    `</g>`,
    `<text x="${PAD.left - 6}" y="${y(vmax) + 4}" font-family="sans-serif" font-size="10" text-anchor="end">${fmt(vmax)}</text>`,
    `<text x="${PAD.left - 6}" y="${y(vmin) + 4}" font-family="sans-serif" font-size="10" text-anchor="end">${fmt(vmin)}</text>`,
    `<text x="${PAD.left}" y="${H - PAD.bottom + 16}" font-family="sans-serif" font-size="10">${esc(hhmmss(c.start))}</text>`,
    `<text x="${W - PAD.right}" y="${H - PAD.bottom + 16}" font-family="sans-serif" font-size="10" text-anchor="end">${esc(hhmmss(c.end))} UTC</text>`,
  );
  for (const s of c.steps) {
    const sx = x(s.at);
    out.push(
      `<g data-role="traffic-step"><line x1="${sx}" y1="${PAD.top}" x2="${sx}" y2="${H - PAD.bottom}" stroke="#888888" stroke-dasharray="4 3"/>`,
      `<text x="${sx + 3}" y="${PAD.top + 10}" font-family="sans-serif" font-size="10" fill="#555555">${s.percent}%</text></g>`,
    );
  }
  if (c.threshold) {
    const ty = y(c.threshold.value);
    out.push(
      `<g data-role="threshold"><line x1="${PAD.left}" y1="${ty}" x2="${W - PAD.right}" y2="${ty}" stroke="#d62728" stroke-width="1.5" stroke-dasharray="6 4"/>`,
      `<text x="${W - PAD.right}" y="${ty - 4}" font-family="sans-serif" font-size="10" fill="#d62728" text-anchor="end">threshold ${esc(c.threshold.comparison)} ${fmt(c.threshold.value)}</text></g>`,
    );
  }
  if (c.points.length > 0) {
    const pts = c.points.map((p) => `${x(p.at)},${y(p.value)}`).join(' ');
    out.push(`<polyline data-role="metric" points="${pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  } else {
    out.push(
      `<text data-role="no-data" x="${W / 2}" y="${H / 2}" font-family="sans-serif" font-size="12" text-anchor="middle">no metric data in the window</text>`,
    );
  }
  for (const a of c.alarms) {
    const ax = x(a.at);
    out.push(
      `<g data-role="alarm"><circle cx="${ax}" cy="${PAD.top + 4}" r="4" fill="#ff7f0e"><title>${esc(`${a.name} ALARM at ${a.at}`)}</title></circle></g>`,
    );
  }
  if (c.rollbackAt) {
    const rx = x(c.rollbackAt);
    out.push(
      `<g data-role="rollback"><line x1="${rx}" y1="${PAD.top}" x2="${rx}" y2="${H - PAD.bottom}" stroke="#d62728" stroke-width="2"/>`,
      `<text x="${rx + 3}" y="${H - PAD.bottom - 6}" font-family="sans-serif" font-size="11" fill="#d62728">rollback ${esc(hhmmss(c.rollbackAt))}</text></g>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString();
}

function hhmmss(t: string): string {
  return new Date(Date.parse(t)).toISOString().slice(11, 19);
}
