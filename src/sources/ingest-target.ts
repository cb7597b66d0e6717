/**
 * What a live source needs from an index: the native ingest path of docs/contract.md section 5.
 * ActivityIndex implements it; the sources depend on this shape only, so that one
 * source can feed any object that parses log lines the same way.
 */

import type { Writable } from 'node:stream';
import { INGEST_OPTION_NAMES, type IngestOptions, type IngestReport, type RejectReason } from '../ingest.js';

export type { IngestOptions, IngestReport, LogFormat, RejectedLine, RejectReason, UserField } from '../ingest.js';

/**
 * A Writable of log bytes cut anywhere, with its live report (index.createIngestStream()).
 * `bytesFed`, when present, counts the bytes parsed so far (written bytes the stream
 * still buffers are not): sources use it to say exactly which input the index holds.
 */
export type IngestStream = Writable & {
  readonly report: IngestReport;
  readonly bytesFed?: number;
  /**
   * Called by follow() right before it writes bytes that end with a whole line at
   * `offset` of the file (device `dev`, inode `ino`) followed as `path`; a stream that
   * must say where its input stands (the JetStream publisher) implements it.
   */
  lineEndAt?(position: LineEnd): void;
  /**
   * Called by follow() before it writes anything, when it starts reading a file from
   * the middle: the lines before that offset the parser needs (contextBefore(), a W3C
   * file's last '#Fields:'). They set the parser's state and are not counted.
   */
  readContext?(lines: Uint8Array): void;
};

/** Where the bytes written next end in a followed file: after a whole line. */
export interface LineEnd {
  path: string;
  dev: number;
  ino: number;
  offset: number;
}

/** Bytes of `written` that `stream` has parsed. */
export function bytesFed(stream: IngestStream, written: number): number {
  return stream.bytesFed ?? written - stream.writableLength;
}

export interface IngestTarget {
  ingest(data: Uint8Array | string, options?: IngestOptions): IngestReport;
  createIngestStream(options?: IngestOptions): IngestStream;
}


/** The ingest options in `options`, without the source's own ones. */
export function pickIngestOptions(options: object): IngestOptions {
  const picked: Record<string, unknown> = {};
  for (const name of INGEST_OPTION_NAMES) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked as IngestOptions;
}

/** An empty report, for a source that has not fed anything yet. */
export function emptyReport(): IngestReport {
  return { lines: 0, accepted: 0, rejected: 0, late: 0, reasons: {}, samples: [] };
}

/** A deep copy, so a caller may keep a report while the source goes on counting. */
export function copyReport(report: IngestReport): IngestReport {
  return {
    lines: report.lines,
    accepted: report.accepted,
    rejected: report.rejected,
    late: report.late,
    reasons: { ...report.reasons },
    samples: report.samples.map((sample) => ({ ...sample })),
  };
}

/** The sum of several reports; samples are concatenated in order, each list kept whole. */
export function sumReports(reports: Iterable<IngestReport>): IngestReport {
  const total = emptyReport();
  for (const report of reports) {
    total.lines += report.lines;
    total.accepted += report.accepted;
    total.rejected += report.rejected;
    total.late += report.late;
    for (const [reason, count] of Object.entries(report.reasons) as [RejectReason, number | undefined][]) {
      if (count !== undefined) total.reasons[reason] = (total.reasons[reason] ?? 0) + count;
    }
    total.samples.push(...report.samples.map((sample) => ({ ...sample })));
  }
  return total;
}
