// A hand-written SVG bar chart: one group of bars per phase, one bar per contender,
// logarithmic y axis (a contender 1000× slower still shows as a bar).

const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#98df8a', '#ff7f0e', '#ffbb78', '#9467bd', '#c5b0d5', '#8c564b', '#c49c94', '#e377c2', '#7f7f7f'];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function short(v) {
  if (v >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

/**
 * groups: [{ label, unit }]; series: [{ name, values: number[] (NaN/null = not run) }].
 * Returns the SVG document as a string.
 */
export function barChartSvg({ title, subtitle, groups, series }) {
  const width = Math.max(900, 140 + groups.length * (series.length * 18 + 40));
  const height = 520;
  const m = { left: 70, right: 20, top: 70, bottom: 60 + Math.ceil(series.length / 3) * 18 };
  const plotH = height - m.top - m.bottom;
  const plotW = width - m.left - m.right;
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.floor(Math.log10(Math.min(...all, 1e3)));
  const hi = Math.ceil(Math.log10(Math.max(...all, 10)));
  const y = (v) => m.top + plotH - ((Math.log10(v) - lo) / (hi - lo || 1)) * plotH;
  const groupW = plotW / groups.length;
  const barW = Math.min(22, (groupW - 24) / series.length);

  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${m.left}" y="26" font-size="17" font-weight="600">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="${m.left}" y="46" font-size="11.5" fill="#555">${esc(subtitle)}</text>`);
  for (let e = lo; e <= hi; e++) {
    const yy = y(10 ** e).toFixed(1);
    out.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(`<text x="${m.left - 6}" y="${yy}" font-size="11" text-anchor="end" dominant-baseline="middle" fill="#444">${short(10 ** e)}</text>`);
  }
  out.push(`<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" font-size="11" text-anchor="middle" fill="#444">per second (log scale; higher is better)</text>`);
  groups.forEach((g, gi) => {
    const gx = m.left + gi * groupW + (groupW - barW * series.length) / 2;
    series.forEach((s, si) => {
      const v = s.values[gi];
      const x = gx + si * barW;
      if (!(Number.isFinite(v) && v > 0)) {
        out.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${m.top + plotH - 4}" font-size="9" text-anchor="middle" fill="#999">–</text>`);
        return;
      }
      const top = y(v);
      out.push(`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(m.top + plotH - top).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${s.name} — ${g.label}: ${Math.round(v).toLocaleString('en-US')} ${g.unit}/s`)}</title></rect>`);
      out.push(`<text transform="translate(${(x + barW / 2).toFixed(1)} ${(top - 4).toFixed(1)}) rotate(-90)" font-size="9" fill="#333">${short(v)}</text>`);
    });
    out.push(`<text x="${(m.left + gi * groupW + groupW / 2).toFixed(1)}" y="${m.top + plotH + 18}" font-size="12.5" text-anchor="middle">${esc(g.label)}</text>`);
    out.push(`<text x="${(m.left + gi * groupW + groupW / 2).toFixed(1)}" y="${m.top + plotH + 32}" font-size="10.5" text-anchor="middle" fill="#666">${esc(g.unit)}/s</text>`);
  });
  out.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#333"/>`);
  const legendY = m.top + plotH + 50;
  const colW = (width - m.left - m.right) / 3;
  series.forEach((s, si) => {
    const lx = m.left + (si % 3) * colW;
    const ly = legendY + Math.floor(si / 3) * 18;
    out.push(`<rect x="${lx}" y="${ly - 9}" width="11" height="11" fill="${PALETTE[si % PALETTE.length]}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}" font-size="11.5">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
