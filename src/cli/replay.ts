/**
 * `skiptrail replay <file...>`: ingests whole log files (plain or gzip, '-' for standard
 * input) into a fresh index, prints the ingest report, then answers the queries given.
 */

import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import type { ActivityIndex } from '../activity-index.js';
import type { IngestReport } from '../sources/ingest-target.js';
import { copyReport, sumReports } from '../sources/ingest-target.js';
import { FILTER_REASONS } from '../ingest.js';
import { gunzipIfCompressed } from '../sources/readable.js';
import {
  INDEX_HELP,
  INDEX_OPTIONS,
  INGEST_HELP,
  INGEST_OPTIONS,
  UsageError,
  durationFlag,
  ingestOptions,
  integerFlag,
  listFlag,
  openIndex,
  parse,
  stringFlag,
  withFlagNames,
} from './flags.js';
import { Progress, formatBytes, type ProgressMode } from './progress.js';

export const REPLAY_HELP = `Usage: skiptrail replay <file...> [options]

Ingests log files into a fresh index, prints what was read, then answers queries.
Files may be gzip-compressed (recognised by their first bytes); '-' reads standard input.

Queries (each may be repeated):
  --last-users PAGE       Q1: the last users of PAGE
  --user-pages USER       Q2: the pages USER viewed within --window
  --online PAGE           Q3: who is on PAGE now, and how many
  --k N                   rows for --last-users and --online (default 30)
  --window D              Q2 window (default: --user-window)
  --limit N               Q2: at most N rows

Output:
  --json                  print one JSON object on stdout instead of text
  --quiet                 no progress on stderr
  Progress goes to stderr: a bar on a terminal, otherwise a line every 5 s.

${INGEST_HELP}

${INDEX_HELP}

Exit status: 0 done (rejected lines are counted, not errors), 1 a file could not be
read or decompressed, 2 a usage error (unknown flag, bad value, no file).
`;

const OPTIONS = {
  ...INDEX_OPTIONS,
  ...INGEST_OPTIONS,
  'last-users': { type: 'string', multiple: true },
  'user-pages': { type: 'string', multiple: true },
  online: { type: 'string', multiple: true },
  k: { type: 'string' },
  window: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const;

interface Queries {
  lastUsers: string[];
  userPages: string[];
  online: string[];
  k: number | undefined;
  window: string | undefined;
  limit: number | undefined;
}

interface FileResult {
  file: string;
  bytes: number;
  report: IngestReport;
}

export async function replay(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS);
  if (positionals.length === 0) throw new UsageError('no file given (use - for standard input)');
  const window = durationFlag(values, 'window');
  const queries: Queries = {
    lastUsers: listFlag(values, 'last-users'),
    userPages: listFlag(values, 'user-pages'),
    online: listFlag(values, 'online'),
    k: integerFlag(values, 'k'),
    window,
    limit: integerFlag(values, 'limit'),
  };
  const json = values.json === true;
  // A replay answers as of the log's last event, repeatably: the 'watermark' clock.
  const index = openIndex(values, { clock: 'watermark' });
  try {
    const options = ingestOptions(values, index.options.maxKeyBytes);
    // Argument errors show before any work: the facade checks them on the empty index.
    // Query arguments (k, options.window, options.limit) are flags of the same name here.
    withFlagNames(() => index.ingest('', options));
    withFlagNames(() => answer(index, queries), { k: 'k', 'options.window': 'window', 'options.limit': 'limit' });

    const sizes = positionals.map((file) => statSize(file));
    const bytesTotal = sizes.reduce((sum, size) => sum + size, 0);
    const done: FileResult[] = [];
    let current = { file: '', bytes: 0, sink: null as { readonly report: IngestReport } | null };
    const mode: ProgressMode = values.quiet === true ? 'off' : process.stderr.isTTY ? 'bar' : 'lines';
    const progress = new Progress(mode, () => ({
      bytesRead: done.reduce((sum, result) => sum + result.bytes, 0) + current.bytes,
      bytesTotal,
      lines: done.reduce((sum, result) => sum + result.report.lines, 0) + (current.sink?.report.lines ?? 0),
      file: current.file,
    }));
    const started = performance.now();
    try {
      for (const file of positionals) {
        const sink = index.createIngestStream(options);
        current = { file, bytes: 0, sink };
        await ingestOne(file, sink, (bytes) => {
          current.bytes += bytes;
        });
        done.push({ file, bytes: current.bytes, report: copyReport(sink.report) });
        current = { file: '', bytes: 0, sink: null };
      }
    } finally {
      progress.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    const total = sumReports(done.map((result) => result.report));
    // Samples name their file: line numbers count within each file.
    total.samples = done.flatMap((result) => result.report.samples.map((sample) => ({ file: result.file, ...sample })));
    const answers = answer(index, queries);
    const stats = index.stats();
    const format = stringFlag(values, 'format') ?? 'combined';
    const warning = formatWarning(total, format) ?? timeUnitWarning(total, stats.watermark, format, stringFlag(values, 'ts-unit'));
    if (warning !== null) process.stderr.write(`skiptrail replay: ${warning}\n`);
    if (json) {
      const watermark = Number.isFinite(stats.watermark) ? stats.watermark : null;
      process.stdout.write(
        `${JSON.stringify({ files: done, report: total, seconds, linesPerSecond: rate(total.lines, seconds), stats: { ...stats, watermark }, ...answers })}\n`,
      );
    } else {
      process.stdout.write(describeRun(done, total, seconds, stats) + describeAnswers(answers, queries, index));
    }
    return 0;
  } finally {
    index.close();
  }
}

function statSize(file: string): number {
  if (file === '-') return 0;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    return stat.size;
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
}

async function ingestOne(file: string, sink: NodeJS.WritableStream, counted: (bytes: number) => void): Promise<void> {
  const input = file === '-' ? process.stdin : fs.createReadStream(file, { highWaterMark: 1 << 20 });
  async function* count(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      counted(chunk.length);
      yield chunk;
    }
  }
  try {
    if (file.endsWith('.gz')) await pipeline(input, count, zlib.createGunzip(), sink);
    else await pipeline(input, count, gunzipIfCompressed, sink);
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
}

interface Answers {
  lastUsers: Record<string, { user: string; ts: number }[]>;
  userPages: Record<string, { page: string; ts: number }[]>;
  online: Record<string, { count: number; users: { user: string; ts: number }[] }>;
  onlineCount: number;
}

function answer(index: ActivityIndex, queries: Queries): Answers {
  const answers: Answers = { lastUsers: {}, userPages: {}, online: {}, onlineCount: index.onlineCount() };
  for (const page of queries.lastUsers) {
    answers.lastUsers[page] = queries.k === undefined ? index.lastUsers(page) : index.lastUsers(page, queries.k);
  }
  for (const user of queries.userPages) {
    answers.userPages[user] = index.userPages(user, {
      ...(queries.window === undefined ? {} : { window: queries.window }),
      ...(queries.limit === undefined ? {} : { limit: queries.limit }),
    });
  }
  for (const page of queries.online) {
    answers.online[page] = {
      count: index.onlineCount(page),
      users: queries.k === undefined ? index.onlineUsers(page) : index.onlineUsers(page, queries.k),
    };
  }
  return answers;
}

const number = (value: number) => value.toLocaleString('en-US');
/** "1 line", "2 lines", "1,000 lines". */
const count = (value: number, noun: string) => `${number(value)} ${noun}${value === 1 ? '' : 's'}`;

/**
 * A warning when most lines were rejected for a reason other than a filter (a 404 is
 * not a mistake): the usual cause is the wrong --format. Null when all is well.
 */
function formatWarning(total: IngestReport, format: string): string | null {
  let errors = total.rejected;
  for (const reason of FILTER_REASONS) errors -= total.reasons[reason] ?? 0;
  if (total.lines === 0 || errors * 2 <= total.lines) return null;
  // Mostly 'future' in a JSON format: the times' unit, not the format (timeUnitWarning).
  if (JSON_FORMATS.has(format) && (total.reasons.future ?? 0) * 2 > total.lines) return null;
  const others = ['combined', 'common', 'ndjson', 'caddy', 'traefik', 'w3c', 'alb'].filter((name) => name !== format);
  return (
    `warning: ${number(errors)} of ${count(total.lines, 'line')} ${errors === 1 ? 'was' : 'were'} rejected as unreadable ` +
    `(see "rejected by reason"); is the log in another format? Try --format ${others.join(' or ')}, or see docs/ingest.md`
  );
}

const JSON_FORMATS = new Set(['ndjson', 'caddy', 'traefik']);
/** Before this (1980-01-01), a JSON log's newest time is almost surely seconds read as ms. */
const SUSPICIOUSLY_OLD_MS = 315_532_800_000;

/**
 * For the JSON formats, whose numeric times have a unit: a warning when the newest
 * time accepted is before 1980 (seconds read as milliseconds), or when most lines are
 * 'future' (micro- or nanoseconds read as milliseconds). Null when all is well or the
 * unit was given.
 */
function timeUnitWarning(total: IngestReport, watermark: number, format: string, tsUnit: string | undefined): string | null {
  if (!JSON_FORMATS.has(format) || tsUnit !== undefined || total.lines === 0) return null;
  const unit = format === 'caddy' ? 's' : 'ms';
  if (total.accepted > 0 && watermark < SUSPICIOUSLY_OLD_MS) {
    return `warning: the newest time accepted is ${time(watermark)}: are the log's numeric times in seconds? --format ${format} reads them as ${unit === 's' ? 'seconds' : 'milliseconds'}; give --ts-unit s (or ms, us, ns), see docs/ingest.md`;
  }
  const future = total.reasons.future ?? 0;
  if (future * 2 > total.lines) {
    return `warning: ${number(future)} of ${count(total.lines, 'line')} ${future === 1 ? 'was' : 'were'} dated in the future: are the log's numeric times in ${unit === 's' ? 'milliseconds, ' : ''}microseconds or nanoseconds? Give --ts-unit ${unit === 's' ? 'ms, ' : ''}us or ns, see docs/ingest.md`;
  }
  return null;
}
/** An ISO time, or the bare number for a time beyond Date's range (record() allows up to 2^53 - 1). */
const time = (ms: number) => (Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`);
const rate = (lines: number, seconds: number) => (seconds > 0 ? Math.round(lines / seconds) : 0);

function describeRun(
  files: FileResult[],
  total: IngestReport & { samples: { file?: string; line: number; reason: string; text: string }[] },
  seconds: number,
  stats: ReturnType<ActivityIndex['stats']>,
): string {
  const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
  let text = `read ${count(total.lines, 'line')} from ${count(files.length, 'file')} (${formatBytes(bytes)}) in ${seconds.toFixed(2)} s, ${number(rate(total.lines, seconds))} lines/s\n`;
  text += `accepted ${number(total.accepted)}, rejected ${number(total.rejected)}, late ${number(total.late)}\n`;
  const reasons = Object.entries(total.reasons).filter(([, count]) => count > 0);
  if (reasons.length > 0) text += `rejected by reason: ${reasons.map(([reason, count]) => `${reason} ${number(count)}`).join(', ')}\n`;
  for (const sample of total.samples) {
    text += `  ${sample.file}:${sample.line} ${sample.reason}: ${sample.text}\n`;
  }
  const watermark = Number.isFinite(stats.watermark) ? time(stats.watermark) : 'none';
  text += `index: ${number(stats.pages)} pages, ${number(stats.users)} users, ${number(stats.entries)} entries, ${formatBytes(stats.memoryBytes)}, ${number(stats.online)} online, watermark ${watermark}\n`;
  return text;
}

function describeAnswers(answers: Answers, queries: Queries, index: ActivityIndex): string {
  let text = '';
  const k = queries.k ?? Math.min(30, index.options.usersPerPage);
  for (const [page, rows] of Object.entries(answers.lastUsers)) {
    text += `\nlast users of ${page} (k=${k}): ${rows.length}\n`;
    for (const row of rows) text += `  ${time(row.ts)}  ${row.user}\n`;
  }
  for (const [user, rows] of Object.entries(answers.userPages)) {
    const window = queries.window ?? index.options.userWindow;
    text += `\npages of ${user} (window ${typeof window === 'number' ? `${window} ms` : window}): ${rows.length}\n`;
    for (const row of rows) text += `  ${time(row.ts)}  ${row.page}\n`;
  }
  for (const [page, { count, users }] of Object.entries(answers.online)) {
    text += `\nonline on ${page}: ${count}\n`;
    for (const row of users) text += `  ${time(row.ts)}  ${row.user}\n`;
  }
  return text;
}
