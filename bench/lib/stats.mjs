// Small statistics helpers for latency samples (nanoseconds).

/** The q-quantile (0..1) of a sorted Float64Array, nearest-rank. */
export function quantileSorted(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/** { count, p50, p99, max, mean } in microseconds from ns samples. */
export function latencySummary(samplesNs) {
  const s = Float64Array.from(samplesNs).sort();
  let sum = 0;
  for (const v of s) sum += v;
  const us = (v) => +(v / 1000).toFixed(3);
  return {
    count: s.length,
    p50Us: us(quantileSorted(s, 0.5)),
    p99Us: us(quantileSorted(s, 0.99)),
    maxUs: us(s.length ? s[s.length - 1] : NaN),
    meanUs: us(s.length ? sum / s.length : NaN),
  };
}

/** 1234567.8 → "1,234,568"; small numbers keep 3 significant digits. */
export function fmtNum(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return String(+v.toPrecision(3));
}

export function fmtBytes(b) {
  if (b === null || b === undefined || Number.isNaN(b)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  let v = b;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
