/**
 * follow(index, path): feeds an index from a growing log file, like `tail -F`.
 *
 * Contract:
 * - Starts at the end of the file (`from: 'end'`, the default; a partly written last
 *   line there is skipped up to its "\n") or at its start (`from: 'start'`). A file
 *   that does not exist yet, or that replaces it later, is read from its start.
 * - Only whole lines are ingested: the bytes after the last "\n" are held until their
 *   "\n" arrives (an over-long line is handed on early, to be rejected as
 *   line-too-long without being held whole).
 * - Rotation (the name now points at another file: rename + recreate, or delete +
 *   recreate): the old file descriptor is read to its end first, then its unterminated
 *   last line, if any, counts as a line, then the new file is read from its start. No
 *   line is lost or read twice, as long as the writer has stopped writing to the old
 *   file when the new one appears (the usual rename, reopen-on-signal order).
 * - Truncation (as `copytruncate` does): noticed when the file got shorter than what
 *   was read, or when its first bytes (HEAD_BYTES) or the last bytes read (TAIL_BYTES
 *   before the read offset) are no longer what was read there (the file was truncated
 *   and written past the old offset before the reader looked). Missed only when such a
 *   rewrite has both the same first bytes and the same bytes before the offset
 *   (docs/cli.md says when); both ends are compared because a miss loses lines, while a
 *   false alarm would only re-read the file. The held partial line counts as a line and
 *   reading starts again at offset 0. Lines written between the last read and the
 *   truncation are gone, as with any follower. A writer that did not open the file with
 *   O_APPEND (a shell `>`, many app loggers) goes on writing at its old offset, so the
 *   file restarts with a hole of NUL bytes: NUL bytes at the start of a truncated file
 *   are skipped, not read as a line, and counted in stats().skippedNulBytes.
 * - Changes are noticed by fs.watch on the file's directory, and by polling every
 *   `pollInterval` ms in case the watch misses one (network file systems, a rotation
 *   to another directory). Reads are serialized: one at a time, in file order.
 * - close() reads what the file holds at that moment, ends the ingest stream and
 *   resolves with the final report. A partial last line still without "\n" is not
 *   ingested: it is reported in stats().pendingBytes.
 * - position() names the file (device + inode) and the byte offset after the last whole
 *   line the index holds, with the report up to there (docs/persistence.md). `resume`
 *   continues from such a position: the same file from its offset; or, if the file was
 *   rotated meanwhile, the old file found by its identity in the same folder, read to
 *   its end, then the new one from its start; or, when neither can be found (or the
 *   file is shorter than the offset), the current file from its start with a
 *   `resumeGap` in stats() and a 'resumeGap' event, never silently.
 * - `from` may be a duration ('30m'): start at the first line newer than the file's
 *   last time minus it, found by a binary search over the file's times to that time
 *   minus `fromSlack` (log times are only nearly sorted: Apache's %t is when a request
 *   began), then a scan.
 * - A file read from the middle (resume, 'end', a duration) gives the parser the lines
 *   before the offset that it needs, uncounted: a W3C file's last '#Fields:' directive
 *   (resume-context.ts), so its lines are not no-fields until the next one.
 */

import { EventEmitter, once } from 'node:events';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { checkDurationOption, checkFollowPosition, checkFollowStart, type FollowPosition } from '../validate.js';
import { findStartByTime } from './find-start.js';
import { contextBefore } from './resume-context.js';
import type { IngestOptions, IngestReport, IngestStream, IngestTarget } from './ingest-target.js';
import { bytesFed, copyReport, pickIngestOptions, sumReports } from './ingest-target.js';
import { checkBoolean, checkInteger, checkNonEmptyString, checkSourceOptions } from '../validate.js';

export type { FollowPosition } from '../validate.js';

export interface FollowOptions extends IngestOptions {
  /**
   * Where to start in a file that exists when following starts: 'end' (default),
   * 'start', or a duration ('30m', or ms): the first line newer than the file's last
   * time minus it.
   */
  from?: 'start' | 'end' | string | number;
  /** With a duration `from`: how far out of time order lines may be. Default '1m'. */
  fromSlack?: string | number;
  /** A position from a snapshot (follower.position()): continue from there; `from` is then ignored. */
  resume?: FollowPosition;
  /** How often to check the file when no watch event came, in ms. Default 250. */
  pollInterval?: number;
  /**
   * Largest single read, in bytes. Default 1 MiB. Whatever the read size, bytes are
   * parsed and indexed 64 KiB at a time, and the event loop serves other work (HTTP
   * queries) between two such steps.
   */
  readBytes?: number;
  /** Keep the process alive while following (like a server). Default true. */
  persistent?: boolean;
  /**
   * While the file does not exist, 'missing' is emitted when that is first found and
   * again every this many ms (at the next check). Default 60,000; 0: at every check.
   */
  missingWarningInterval?: number;
}

export interface FollowStats {
  /** The path being followed, as given. */
  path: string;
  /** Bytes read from all generations of the file. */
  bytes: number;
  /** Times the name moved to a new file. */
  rotations: number;
  /** Times the file shrank under the reader. */
  truncations: number;
  /** NUL bytes skipped at the start of a truncated file (the hole a non-appending writer leaves). */
  skippedNulBytes: number;
  /** Bytes of the current partial line, held until its "\n". */
  pendingBytes: number;
  /** Whether a file is open now (false while the name does not exist). */
  open: boolean;
  /** Read offset in the open file. */
  position: number;
  /** Whether the name does not exist now (nothing is open and nothing can be read). */
  missing: boolean;
  /** Checks that found the name missing since following began. */
  missingChecks: number;
  /** Whether what the file held when following began has been read (a missing file held nothing). */
  caughtUp: boolean;
  /** Set when a resume could not continue where the position said (lines may be missing). */
  resumeGap: ResumeGap | null;
}

/** Why a follower resumed from the start of the file instead of its stored position. */
export interface ResumeGap {
  reason: 'file-not-found' | 'file-shorter';
  /** The stored position. */
  position: FollowPosition;
  message: string;
}

/**
 * A running follower. Events: 'open' (path), 'rotate' (path), 'truncate' (path),
 * 'missing' (path: the name does not exist; emitted when first found, then every
 * missingWarningInterval while it stays missing), 'caught-up' (once: what the file held
 * at start has been read), 'resumeGap' (ResumeGap) and 'warning' (Error: a read or open failed; it is retried at
 * the next poll).
 */
export interface Follower extends EventEmitter {
  readonly path: string;
  /** 'follow:' + path: the name its position is stored under in a snapshot. */
  readonly name: string;
  /** The cumulative report: every line of every generation of the file so far (and, resumed, before). */
  readonly report: IngestReport;
  stats(): FollowStats;
  /** Where the index's input from this file ends now; null before any file was opened. */
  position(): FollowPosition | null;
  /** Checks the file now; resolves when what it held at the call has been ingested. */
  poll(): Promise<void>;
  /**
   * Looks again at the name from scratch (what SIGHUP does in `skiptrail serve`): watches
   * its directory anew, reports it again if it is missing, then checks it as poll() does.
   */
  reopen(): Promise<void>;
  /** Stops following; resolves with the final report. Calling it again is fine. */
  close(): Promise<IngestReport>;
}

const NEWLINE = Buffer.from('\n');
/** Bytes before the read offset compared to notice a truncation hidden by new writes. */
const TAIL_BYTES = 64;
/**
 * Bytes at the start of the file compared for the same reason: a log's first lines, whose
 * times differ from those of the lines a truncated file is rewritten with.
 */
const HEAD_BYTES = 1024;
/** Smallest read once the known end is passed (the file may have grown). */
const MIN_READ_BYTES = 64 << 10;
/** Ingested in one synchronous step: a few hundred lines, a few milliseconds at most. */
const FEED_SLICE_BYTES = 64 << 10;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
const FOLLOW_OPTION_NAMES = ['from', 'fromSlack', 'resume', 'pollInterval', 'readBytes', 'persistent', 'missingWarningInterval'];

/** Starts following `file`; see the module comment for the contract. */
export function follow(index: IngestTarget, file: string, options: FollowOptions = {}): Follower {
  checkNonEmptyString(file, 'path');
  const given = checkSourceOptions(options, 'follow()', FOLLOW_OPTION_NAMES);
  const from = given.from === undefined ? 'end' : checkFollowStart(given.from, 'options.from');
  const fromSlack = given.fromSlack === undefined ? 60_000 : checkDurationOption(given.fromSlack, 'options.fromSlack');
  if (given.resume !== undefined) checkFollowPosition(given.resume, 'options.resume');
  const pollInterval = given.pollInterval === undefined ? 250 : checkInteger(given.pollInterval, 'options.pollInterval', 1, 2 ** 31 - 1);
  const readBytes = given.readBytes === undefined ? 1 << 20 : checkInteger(given.readBytes, 'options.readBytes', 1, 1 << 30);
  if (given.persistent !== undefined) checkBoolean(given.persistent, 'options.persistent');
  const missingWarningInterval =
    given.missingWarningInterval === undefined
      ? 60_000
      : checkInteger(given.missingWarningInterval, 'options.missingWarningInterval', 0, Number.MAX_SAFE_INTEGER);
  return new FileFollower(index, file, { ...options, from, fromSlack, pollInterval, readBytes, missingWarningInterval });
}

type Resolved = Omit<FollowOptions, 'from' | 'fromSlack'> &
  Required<Pick<FollowOptions, 'pollInterval' | 'readBytes' | 'missingWarningInterval'>> & { from: 'start' | 'end' | number; fromSlack: number };

/** At stream byte count `at` (once the stream has fed that much), the index holds the file up to `offset`. */
interface Mark {
  at: number;
  dev: number;
  ino: number;
  offset: number;
}

class FileFollower extends EventEmitter implements Follower {
  readonly path: string;
  readonly name: string;
  readonly #options: Resolved;
  readonly #stream: IngestStream;
  readonly #maxLineBytes: number;
  #streamError: Error | null = null;

  // The open generation of the file.
  #handle: fsp.FileHandle | null = null;
  #ino = 0;
  #dev = 0;
  #position = 0;
  /** A copy of the last bytes read (up to TAIL_BYTES), which must still end at #position. */
  #tail: Buffer = Buffer.alloc(0);
  /** A copy of the file's first bytes read (up to HEAD_BYTES; all of them up to #position unless the file shrank while opening), which must still be there. */
  #head: Buffer = Buffer.alloc(0);
  /** Only the first file found at start honours `from` and `resume`. */
  #startAtEnd: boolean;
  #resume: FollowPosition | null;
  #resumeGap: ResumeGap | null = null;
  /** The report of the input before a resume. */
  readonly #baseReport: IngestReport | null;
  /** Bytes written to the stream, and the positions they end at, oldest first. */
  #written = 0;
  #marks: Mark[] = [];
  #settled: Mark | null = null;
  /** Drop bytes up to the first "\n" (from: 'end' began inside a line). */
  #skipToNewline = false;
  /** Drop NUL bytes up to the first other byte (a truncated file's leading hole). */
  #skipNulHole = false;

  // Line assembly: bytes after the last "\n" wait here; the stream gets whole lines.
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** The stream holds an unfinished (over-long) line: feed it on directly. */
  #streamMidLine = false;

  #watcher: fs.FSWatcher | null = null;
  #timer: NodeJS.Timeout;
  #running: Promise<void> | null = null;
  #again = false;
  #closing: Promise<IngestReport> | null = null;
  #closed = false;
  #lastWarning = '';
  /** When 'missing' was last emitted, or null while the name exists. */
  #missingReportedAt: number | null = null;
  #missingChecks = 0;
  #caughtUp = false;
  #counts = { bytes: 0, rotations: 0, truncations: 0, skippedNulBytes: 0 };

  constructor(index: IngestTarget, file: string, options: Resolved) {
    super();
    this.path = file;
    this.name = `follow:${file}`;
    this.#options = options;
    this.#resume = options.resume ?? null;
    this.#startAtEnd = this.#resume === null && options.from !== 'start';
    this.#baseReport = this.#resume === null ? null : copyReport(this.#resume.report);
    const ingestOptions = pickIngestOptions(options);
    this.#maxLineBytes = ingestOptions.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#stream = index.createIngestStream(ingestOptions);
    this.#stream.on('error', (error: Error) => {
      this.#streamError ??= error;
    });
    this.#watch();
    this.#timer = setInterval(() => {
      if (this.#watcher === null) this.#watch();
      void this.#schedule();
    }, options.pollInterval);
    if (options.persistent === false) this.#timer.unref();
    void this.#schedule();
  }

  get report(): IngestReport {
    return this.#baseReport === null ? this.#stream.report : sumReports([this.#baseReport, this.#stream.report]);
  }

  stats(): FollowStats {
    return {
      path: this.path,
      ...this.#counts,
      pendingBytes: this.#heldBytes,
      open: this.#handle !== null,
      position: this.#position,
      missing: this.#missingReportedAt !== null,
      missingChecks: this.#missingChecks,
      caughtUp: this.#caughtUp,
      resumeGap: this.#resumeGap,
    };
  }

  position(): FollowPosition | null {
    const fed = bytesFed(this.#stream, this.#written);
    while (this.#marks.length > 0 && this.#marks[0]!.at <= fed) this.#settled = this.#marks.shift()!;
    const mark = this.#settled;
    if (mark === null) return this.#resume;
    return { kind: 'follow', path: this.path, dev: mark.dev, ino: mark.ino, offset: mark.offset, report: copyReport(this.report) };
  }

  /** Once the stream has fed everything written so far, the index holds the file up to `offset`. */
  #mark(offset: number): void {
    this.#marks.push({ at: this.#written, dev: this.#dev, ino: this.#ino, offset });
    this.position(); // drops marks already passed
  }

  poll(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#schedule();
  }

  reopen(): Promise<void> {
    if (this.#closed || this.#closing !== null) return Promise.resolve();
    this.#watcher?.close();
    this.#watch();
    this.#lastWarning = '';
    if (this.#missingReportedAt !== null) this.#missingReportedAt = -Infinity;
    return this.#schedule();
  }

  close(): Promise<IngestReport> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<IngestReport> {
    clearInterval(this.#timer);
    this.#watcher?.close();
    this.#watcher = null;
    await this.#schedule();
    this.#closed = true;
    await this.#running;
    await this.#handle?.close().catch(() => undefined);
    this.#handle = null;
    if (this.#streamError === null && !this.#stream.writableFinished) {
      const finished = once(this.#stream, 'finish');
      this.#stream.end();
      await finished;
    }
    if (this.#streamError !== null) throw this.#streamError;
    return copyReport(this.report);
  }

  /** Watches the directory: a watch on the file itself would stay with the old inode after a rename. */
  #watch(): void {
    if (this.#closed || this.#closing !== null) return;
    try {
      const base = path.basename(this.path);
      const watcher = fs.watch(path.dirname(this.path), { persistent: false }, (_event, name) => {
        // Any change in the directory may concern us (the rotated file is renamed in it).
        if (name === null || name === base || this.#handle !== null) void this.#schedule();
      });
      watcher.on('error', () => {
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = null;
      });
      this.#watcher = watcher;
    } catch {
      this.#watcher = null; // the directory is missing: polling will retry
    }
  }

  /** Runs one pump, or asks the running one to go round again. Resolves when a pump that began after the call has ended. */
  #schedule(): Promise<void> {
    if (this.#closed) return this.#running ?? Promise.resolve();
    this.#again = true;
    if (this.#running === null) {
      this.#running = (async () => {
        try {
          while (this.#again && !this.#closed && this.#streamError === null) {
            this.#again = false;
            const read = await this.#pump();
            if (read && !this.#caughtUp) {
              this.#caughtUp = true;
              this.emit('caught-up', this.path);
            }
          }
        } finally {
          this.#running = null;
        }
      })();
    }
    return this.#running;
  }

  /** One round: open if needed, read to the end, notice a rotation. Returns false when it failed. */
  async #pump(): Promise<boolean> {
    try {
      if (this.#handle === null && !(await this.#open())) return true;
      await this.#readToEnd();
      let named: fs.Stats | null;
      try {
        named = await fsp.stat(this.path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        named = null; // renamed away or deleted; keep reading the old file until a new one appears
      }
      if (named !== null && (named.ino !== this.#ino || named.dev !== this.#dev)) {
        await this.#readToEnd(); // writes that raced with the rename
        await this.#finishGeneration();
        await this.#handle!.close().catch(() => undefined);
        this.#handle = null;
        this.#counts.rotations++;
        this.emit('rotate', this.path);
        this.#again = true; // open and read the new file in the next round
      }
      this.#lastWarning = '';
      return true;
    } catch (error) {
      this.#warn(error as Error);
      if (this.#handle !== null && (error as NodeJS.ErrnoException).code === 'EBADF') {
        this.#handle = null;
      }
      return false;
    }
  }

  /** The name was not found: count it, and say so when first found and then every missingWarningInterval. */
  #missing(): void {
    this.#missingChecks++;
    const now = Date.now();
    const last = this.#missingReportedAt;
    if (last !== null && now - last < this.#options.missingWarningInterval) return;
    this.#missingReportedAt = now;
    this.emit('missing', this.path);
  }

  /** Opens the file at the path (or, resuming, the rotated file the position names); false when none exists (yet). */
  async #open(): Promise<boolean> {
    let target = this.path;
    let resumeAt: number | null = null;
    if (this.#resume !== null) {
      const found = await this.#findResumeFile(this.#resume);
      if (found !== null) {
        target = found;
        resumeAt = this.#resume.offset;
      }
    }
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(target, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        if (this.#resume !== null && resumeAt === null) this.#gap('file-not-found');
        this.#startAtEnd = false; // a file that appears later is all new
        this.#missing();
        return false;
      }
      throw error;
    }
    this.#missingReportedAt = null;
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw Object.assign(new Error(`${target} is not a regular file`), { code: 'EISDIR' });
      this.#ino = stat.ino;
      this.#dev = stat.dev;
      this.#position = 0;
      this.#tail = Buffer.alloc(0);
      this.#head = Buffer.alloc(0);
      this.#skipToNewline = false;
      this.#skipNulHole = false;
      if (this.#resume !== null) {
        if (resumeAt === null) {
          this.#gap('file-not-found');
        } else if (stat.size < resumeAt) {
          this.#gap('file-shorter');
        } else {
          this.#position = resumeAt;
        }
        this.#resume = null;
      } else if (this.#startAtEnd && stat.size > 0) {
        const from = this.#options.from;
        if (typeof from === 'number') {
          this.#position = await findStartByTime(handle, stat.size, from, this.#options.fromSlack, pickIngestOptions(this.#options));
        } else {
          const length = Math.min(TAIL_BYTES, stat.size);
          const tail = await this.#readAt(handle, stat.size - length, length);
          this.#position = stat.size - length + tail.length;
          this.#tail = tail;
          this.#skipToNewline = tail.length > 0 && tail[tail.length - 1] !== 0x0a;
        }
      }
      if (this.#position > 0) {
        // Read from the middle: the parser gets what it would have read before (a W3C
        // file's last '#Fields:'), uncounted. Only the first file opened starts there, so
        // nothing was written to the stream yet.
        const context = await contextBefore(handle, this.#position, pickIngestOptions(this.#options));
        if (context !== null) this.#stream.readContext?.(context);
      }
      await this.#rememberBefore(handle);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    this.#startAtEnd = false;
    this.#handle = handle;
    if (!this.#skipToNewline) this.#mark(this.#position);
    this.emit('open', target);
    return true;
  }

  /**
   * The file a stored position names: the followed path if it is still that file, else
   * a file of the same folder with its device and inode (logrotate's access.log.1), else null.
   */
  async #findResumeFile(position: FollowPosition): Promise<string | null> {
    const same = (stat: fs.Stats) => stat.isFile() && stat.ino === position.ino && stat.dev === position.dev;
    try {
      if (same(await fsp.stat(this.path))) return this.path;
    } catch {
      // missing: look for it under another name
    }
    const folder = path.dirname(this.path);
    let names: string[];
    try {
      names = await fsp.readdir(folder);
    } catch {
      return null;
    }
    for (const name of names) {
      const candidate = path.join(folder, name);
      try {
        if (same(await fsp.stat(candidate))) return candidate;
      } catch {
        // vanished meanwhile
      }
    }
    return null;
  }

  #gap(reason: ResumeGap['reason']): void {
    const position = this.#resume!;
    const message =
      reason === 'file-not-found'
        ? `${this.path}: the file of the stored position (device ${position.dev}, inode ${position.ino}) is gone; reading the current file from its start: lines written after offset ${position.offset} of the old file are missing`
        : `${this.path}: the file is shorter than the stored offset ${position.offset} (truncated while stopped); reading it from its start`;
    this.#resumeGap = { reason, position, message };
    this.#resume = null;
    if (this.listenerCount('resumeGap') > 0) this.emit('resumeGap', this.#resumeGap);
  }

  /** Reads the open file from the current position until its end. */
  async #readToEnd(): Promise<void> {
    const handle = this.#handle!;
    const { size } = await handle.stat();
    if (size < this.#position || !(await this.#readIsIntact(handle))) {
      await this.#finishGeneration();
      this.#position = 0;
      this.#tail = Buffer.alloc(0);
      this.#head = Buffer.alloc(0);
      this.#skipNulHole = true;
      this.#mark(0);
      this.#counts.truncations++;
      this.emit('truncate', this.path);
    }
    if (size <= this.#position) return;
    // Read on until a short read: the file may grow meanwhile, and one stat per
    // round trip to the thread pool would halve the throughput of a busy log.
    let expected = size - this.#position;
    for (;;) {
      const want = Math.min(this.#options.readBytes, Math.max(expected, MIN_READ_BYTES));
      const buffer = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buffer, 0, want, this.#position);
      if (bytesRead === 0) return; // the end for now (or it shrank: the next pump sees it)
      const chunk = bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
      this.#position += bytesRead;
      this.#counts.bytes += bytesRead;
      const chunkOffset = this.#position - bytesRead;
      this.#rememberRead(chunk, chunkOffset);
      for (let start = 0; start < chunk.length; start += FEED_SLICE_BYTES) {
        // Let the event loop answer queries between two slices of parsing.
        if (start > 0) await yieldToEventLoop();
        await this.#feed(chunk.subarray(start, Math.min(start + FEED_SLICE_BYTES, chunk.length)), chunkOffset + start);
      }
      if (bytesRead < want) return;
      expected -= bytesRead;
    }
  }

  /** Keeps a copy of the first HEAD_BYTES and the last TAIL_BYTES bytes read; `chunk` was read at `offset`, where the previous read ended. */
  #rememberRead(chunk: Buffer, offset: number): void {
    if (this.#head.length < HEAD_BYTES && offset === this.#head.length) {
      this.#head = Buffer.concat([this.#head, chunk.subarray(0, HEAD_BYTES - this.#head.length)]);
    }
    const joined = chunk.length >= TAIL_BYTES ? chunk : Buffer.concat([this.#tail, chunk]);
    this.#tail = Buffer.from(joined.subarray(Math.max(0, joined.length - TAIL_BYTES)));
  }

  /** On opening at a #position past 0 (from the end, a time or a resume): copies the head and tail that reading would have kept. */
  async #rememberBefore(handle: fsp.FileHandle): Promise<void> {
    if (this.#position === 0) return;
    this.#head = await this.#readAt(handle, 0, Math.min(HEAD_BYTES, this.#position));
    if (this.#tail.length === 0) {
      const length = Math.min(TAIL_BYTES, this.#position);
      this.#tail = await this.#readAt(handle, this.#position - length, length);
    }
  }

  /**
   * Whether the first and the last bytes read are still where they were read. When not,
   * the file was truncated and written past the read offset before this check.
   */
  async #readIsIntact(handle: fsp.FileHandle): Promise<boolean> {
    const same = async (copy: Buffer, offset: number) =>
      copy.length === 0 || (await this.#readAt(handle, offset, copy.length)).equals(copy);
    if (!(await same(this.#head, 0))) return false;
    // While everything read is in the head, so is the tail.
    return this.#position <= this.#head.length || (await same(this.#tail, this.#position - this.#tail.length));
  }

  /** Up to `length` bytes at `offset` (fewer where the file ends). */
  async #readAt(handle: fsp.FileHandle, offset: number, length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
  }

  /** Hands whole lines to the stream and holds the partial last one. `offset`: the chunk's place in the file. */
  async #feed(chunk: Buffer, offset: number): Promise<void> {
    if (this.#skipNulHole) {
      let data = 0;
      while (data < chunk.length && chunk[data] === 0) data++;
      this.#counts.skippedNulBytes += data;
      if (data === chunk.length) return;
      this.#skipNulHole = false;
      chunk = chunk.subarray(data);
      offset += data;
      this.#mark(offset);
    }
    if (this.#skipToNewline) {
      const end = chunk.indexOf(0x0a);
      if (end < 0) return;
      this.#skipToNewline = false;
      chunk = chunk.subarray(end + 1);
      offset += end + 1;
      this.#mark(offset);
      if (chunk.length === 0) return;
    }
    const last = chunk.lastIndexOf(0x0a);
    if (last < 0) {
      if (this.#streamMidLine) {
        await this.#write(chunk);
      } else {
        this.#held.push(chunk);
        this.#heldBytes += chunk.length;
        // Longer than any acceptable line: let the stream reject it without our holding it.
        if (this.#heldBytes > this.#maxLineBytes + 1) await this.#writeHeld();
      }
      return;
    }
    await this.#writeHeld();
    this.#stream.lineEndAt?.({ path: this.path, dev: this.#dev, ino: this.#ino, offset: offset + last + 1 });
    await this.#write(last === chunk.length - 1 ? chunk : chunk.subarray(0, last + 1));
    this.#streamMidLine = false;
    this.#mark(offset + last + 1);
    if (last + 1 < chunk.length) {
      const rest = chunk.subarray(last + 1);
      this.#held.push(rest);
      this.#heldBytes = rest.length;
    }
  }

  async #writeHeld(): Promise<void> {
    if (this.#held.length === 0) return;
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    this.#streamMidLine = true;
    for (const piece of held) await this.#write(piece);
  }

  /** The file ended (rotated or truncated): its unterminated last line counts as a line. */
  async #finishGeneration(): Promise<void> {
    this.#skipToNewline = false;
    if (this.#held.length === 0 && !this.#streamMidLine) return;
    await this.#writeHeld();
    this.#stream.lineEndAt?.({ path: this.path, dev: this.#dev, ino: this.#ino, offset: this.#position });
    await this.#write(NEWLINE);
    this.#streamMidLine = false;
    this.#mark(this.#position); // the unterminated last line is in: the whole file is
  }

  async #write(chunk: Buffer): Promise<void> {
    if (this.#streamError !== null) throw this.#streamError;
    this.#written += chunk.length;
    if (!this.#stream.write(chunk)) await once(this.#stream, 'drain');
  }

  #warn(error: Error): void {
    const message = `${this.path}: ${error.message}`;
    if (message === this.#lastWarning) return;
    this.#lastWarning = message;
    if (this.listenerCount('warning') > 0) this.emit('warning', error);
  }
}
