/**
 * Prometheus text exposition (format 0.0.4) for `skiptrail serve`: the index's stats,
 * each source's ingest report, and request counts and latency per route.
 */

import type { IngestReport } from '../sources/ingest-target.js';

/** Upper bounds of the latency histogram, in seconds. */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Request counts by status code and a latency histogram, for one route. */
class RouteStats {
  readonly codes = new Map<number, number>();
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length);
  count = 0;
  sumSeconds = 0;

  observe(code: number, seconds: number): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    this.count++;
    this.sumSeconds += seconds;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]!) {
        this.buckets[i]!++;
        break;
      }
    }
  }
}

export class RequestMetrics {
  readonly #routes = new Map<string, RouteStats>();

  /** Counts one answered request. `route` is a template such as '/pages/:page/users'. */
  observe(route: string, code: number, seconds: number): void {
    let stats = this.#routes.get(route);
    if (stats === undefined) {
      stats = new RouteStats();
      this.#routes.set(route, stats);
    }
    stats.observe(code, seconds);
  }

  /** Requests answered so far, by route. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [route, stats] of this.#routes) counts[route] = stats.count;
    return counts;
  }

  render(out: MetricsWriter): void {
    out.header('skiptrail_http_requests_total', 'counter', 'HTTP requests answered, by route and status code.');
    for (const [route, stats] of this.#routes) {
      for (const [code, count] of stats.codes) {
        out.sample('skiptrail_http_requests_total', { route, code: String(code) }, count);
      }
    }
    const name = 'skiptrail_http_request_duration_seconds';
    out.header(name, 'histogram', 'Time to answer a request in the server (parse, query, serialize), by route.');
    for (const [route, stats] of this.#routes) {
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        cumulative += stats.buckets[i]!;
        out.sample(`${name}_bucket`, { route, le: String(LATENCY_BUCKETS[i]) }, cumulative);
      }
      out.sample(`${name}_bucket`, { route, le: '+Inf' }, stats.count);
      out.sample(`${name}_sum`, { route }, stats.sumSeconds);
      out.sample(`${name}_count`, { route }, stats.count);
    }
  }
}

/** Builds an exposition text: '# HELP' and '# TYPE' once per family, then samples. */
export class MetricsWriter {
  #text = '';

  header(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.#text += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  }

  sample(name: string, labels: Record<string, string>, value: number): void {
    const pairs = Object.entries(labels).map(([key, label]) => `${key}="${escapeLabel(label)}"`);
    this.#text += `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}\n`;
  }

  /** A family with a single unlabelled sample. */
  single(name: string, type: 'counter' | 'gauge', help: string, value: number): void {
    this.header(name, type, help);
    this.sample(name, {}, value);
  }

  toString(): string {
    return this.#text;
  }
}

/** One source's numbers as the metrics page shows them. */
export interface SourceMetrics {
  name: string;
  report: IngestReport;
  bytes?: number;
  counters?: Record<string, number>;
}

/** Per-source ingest families: lines, accepted, late, rejected by reason, bytes, source counters. */
export function renderSources(out: MetricsWriter, sources: readonly SourceMetrics[]): void {
  const family = (name: string, help: string, value: (source: SourceMetrics) => number | undefined) => {
    out.header(name, 'counter', help);
    for (const source of sources) {
      const v = value(source);
      if (v !== undefined) out.sample(name, { source: source.name }, v);
    }
  };
  family('skiptrail_ingest_lines_total', 'Log lines read (empty lines not counted), by source.', (s) => s.report.lines);
  family('skiptrail_ingest_accepted_total', 'Log lines indexed, by source.', (s) => s.report.accepted);
  family('skiptrail_ingest_late_total', 'Accepted lines too old for the user index, by source.', (s) => s.report.late);
  out.header('skiptrail_ingest_rejected_total', 'counter', 'Log lines not indexed, by source and reason (filtered included).');
  for (const source of sources) {
    for (const [reason, count] of Object.entries(source.report.reasons)) {
      out.sample('skiptrail_ingest_rejected_total', { source: source.name, reason }, count);
    }
  }
  family('skiptrail_ingest_bytes_total', 'Bytes received, by source.', (s) => s.bytes);
  const counterNames = new Set(sources.flatMap((source) => Object.keys(source.counters ?? {})));
  for (const counter of counterNames) {
    const words = counter.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`); // skippedNulBytes -> skipped_nul_bytes
    family(`skiptrail_source_${words}_total`, `Source events: ${words.replace(/_/g, ' ')}.`, (s) => s.counters?.[counter]);
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
