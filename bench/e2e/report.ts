/**
 * Medians, the side-by-side table and the SVG chart of Nexus/tgtd ratios.
 */
import type { Cell } from './workloads';
import type { TargetName } from './targets';

export interface Sample {
  target: TargetName;
  cell: string;
  round: number;
  ok: boolean;
  error?: string;
  seconds: number;
  iops: number;
  mibps: number;
  targetCpuSeconds: number;
  iopsPerCpuSecond: number;
  clientCpuSeconds: number;
  rssMiB: number;
  hostBusyPct: number;
  /** Host CPU used by neither the target nor the clients: other people's work on a shared host. */
  otherPct: number;
}

export interface Side {
  runs: number;
  iops: number;
  mibps: number;
  targetCpuSeconds: number;
  iopsPerCpuSecond: number;
  rssMiB: number;
  otherPct: number;
}

export interface Row {
  cell: Cell;
  nexus?: Side;
  tgt?: Side;
  /** Nexus/tgtd of median IOPS and of median IOPS per target CPU second. */
  ratioIops?: number;
  ratioEfficiency?: number;
}

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function side(samples: Sample[]): Side | undefined {
  const ok = samples.filter((s) => s.ok);
  if (ok.length === 0) return undefined;
  return {
    runs: ok.length,
    iops: median(ok.map((s) => s.iops)),
    mibps: median(ok.map((s) => s.mibps)),
    targetCpuSeconds: median(ok.map((s) => s.targetCpuSeconds)),
    iopsPerCpuSecond: median(ok.map((s) => s.iopsPerCpuSecond)),
    rssMiB: Math.max(...ok.map((s) => s.rssMiB)),
    otherPct: median(ok.map((s) => s.otherPct)),
  };
}

export function summarize(cells: readonly Cell[], samples: Sample[]): Row[] {
  return cells.map((cell) => {
    const nexus = side(samples.filter((s) => s.cell === cell.id && s.target === 'nexus'));
    const tgt = side(samples.filter((s) => s.cell === cell.id && s.target === 'tgt'));
    const row: Row = { cell, nexus, tgt };
    if (nexus && tgt) {
      row.ratioIops = nexus.iops / tgt.iops;
      row.ratioEfficiency = nexus.iopsPerCpuSecond / tgt.iopsPerCpuSecond;
    }
    return row;
  });
}

const f0 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : Math.round(x).toString());
const f1 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(1));
const f2 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(2));

export function formatTable(rows: Row[]): string {
  const head = ['workload', 'client', 'N IOPS', 'N MiB/s', 'N CPU s', 'N IOPS/CPUs', 'N RSS', 'T IOPS', 'T MiB/s', 'T CPU s', 'T IOPS/CPUs', 'T RSS', 'IOPS N/T', 'eff N/T', 'oth%'];
  const body = rows.map((r) => {
    const n = r.nexus;
    const t = r.tgt;
    const other = Math.max(n?.otherPct ?? 0, t?.otherPct ?? 0);
    return [r.cell.id.replace(/-(ip|qb)$/, ''), r.cell.client, f0(n?.iops), f1(n?.mibps), f2(n?.targetCpuSeconds), f0(n?.iopsPerCpuSecond), f0(n?.rssMiB),
      f0(t?.iops), f1(t?.mibps), f2(t?.targetCpuSeconds), f0(t?.iopsPerCpuSecond), f0(t?.rssMiB), f2(r.ratioIops), f2(r.ratioEfficiency), f0(other)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...body.map(line)].join('\n') + '\n' +
    'N = Nexus, T = tgtd; medians over rounds; CPU s = target utime+stime (all threads) during the cell; RSS MiB = peak VmRSS;\n' +
    'eff = IOPS per target CPU second; oth% = host CPU used by neither target nor clients (other work on the host)\n';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Two bars per workload (IOPS ratio, IOPS-per-CPU ratio) against a line at 1.0 (parity with tgtd). */
export function ratioSvg(rows: Row[], title: string): string {
  const data = rows.filter((r) => r.ratioIops !== undefined);
  const labelW = 230;
  const plotW = 520;
  const rowH = 30;
  const top = 50;
  const h = top + Math.max(1, data.length) * rowH + 40;
  const maxRatio = Math.max(2, ...data.map((r) => Math.max(r.ratioIops ?? 0, r.ratioEfficiency ?? 0)));
  const scale = Math.ceil(maxRatio * 2) / 2;
  const x = (v: number) => labelW + (Math.min(v, scale) / scale) * plotW;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 90}" height="${h}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`);
  out.push(`<rect x="${labelW}" y="28" width="10" height="10" fill="#3b6fb6"/><text x="${labelW + 14}" y="37">IOPS Nexus/tgtd</text>`);
  out.push(`<rect x="${labelW + 130}" y="28" width="10" height="10" fill="#e08a2c"/><text x="${labelW + 144}" y="37">IOPS per target CPU-second Nexus/tgtd</text>`);
  for (let t = 0; t <= scale + 1e-9; t += scale > 4 ? 1 : 0.5) {
    out.push(`<line x1="${x(t)}" y1="${top - 4}" x2="${x(t)}" y2="${h - 30}" stroke="${t === 1 ? '#c00' : '#ddd'}" stroke-width="${t === 1 ? 2 : 1}"/>`);
    out.push(`<text x="${x(t)}" y="${h - 14}" text-anchor="middle">${t.toFixed(1)}</text>`);
  }
  data.forEach((r, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${labelW - 6}" y="${y + 18}" text-anchor="end">${esc(r.cell.id)}</text>`);
    const bars: Array<[number, string]> = [[r.ratioIops ?? 0, '#3b6fb6'], [r.ratioEfficiency ?? 0, '#e08a2c']];
    bars.forEach(([v, color], j) => {
      const by = y + 4 + j * 11;
      out.push(`<rect x="${labelW}" y="${by}" width="${Math.max(0, x(v) - labelW).toFixed(1)}" height="10" fill="${color}"/>`);
      out.push(`<text x="${(x(v) + 4).toFixed(1)}" y="${by + 9}" font-size="10">${Number.isFinite(v) ? v.toFixed(2) : '-'}</text>`);
    });
  });
  if (data.length === 0) out.push(`<text x="${labelW}" y="${top + 18}">no workload measured on both targets</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
