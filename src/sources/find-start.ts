/**
 * findStartByTime: where follow({ from: '30m' }) starts in a log file: at the first line
 * whose time is at least the file's newest time minus the window, without reading the
 * whole file.
 *
 * Log lines are only nearly sorted by time (Apache's %t is when a request began, and a
 * slow request is logged after faster later ones), so a plain binary search could land
 * after an early line of the window. Instead: binary search for lines older than
 * `target - slack` (the file's order is trusted only at that coarser scale), then scan
 * forward from there to the first line at or after `target`. Lines further out of order
 * than `slack` may be skipped.
 *
 * Times are read with the follower's own ingest options (format, fields, statuses):
 * each probe parses lines into a small scratch index and reads its watermark. Lines
 * without a time (malformed, filtered) are passed over. A W3C file's probe is read
 * after the '#Fields:' in force at its offset (resume-context.ts).
 */

import type * as fsp from 'node:fs/promises';
import { ActivityIndex } from '../activity-index.js';
import type { IngestOptions } from './ingest-target.js';
import { contextLineBefore } from './resume-context.js';

const NEWLINE = Buffer.from('\n');
/** Bytes read per probe; a binary search stops narrowing below this. */
const BLOCK = 64 << 10;
/** How far back from the end the newest time is looked for. */
const MAX_TAIL_BLOCKS = 16;

/**
 * The offset of the first line with a time >= (newest time - windowMs), or 0 when the
 * file has no time at all, or the end of its last whole line when no line is that new.
 */
export async function findStartByTime(
  handle: fsp.FileHandle,
  size: number,
  windowMs: number,
  slackMs: number,
  options: IngestOptions,
): Promise<number> {
  const probe = new ActivityIndex({ maxKeyBytes: options.maxKeyBytes ?? 1024, userWindow: '1d' });
  const { maxKeyBytes: _unused, ...ingestOptions } = options;
  const read = async (offset: number, length: number): Promise<Buffer> => {
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  };
  // The parser's context (a W3C '#Fields:') at an offset: the last one before the end
  // holds for every offset after it; an earlier offset looks back from itself.
  const tailContext = await contextLineBefore(handle, size, ingestOptions);
  const contextAt = async (offset: number): Promise<Buffer | null> => {
    if (tailContext === null || offset >= tailContext.end) return tailContext?.line ?? null;
    return (await contextLineBefore(handle, offset, ingestOptions))?.line ?? null;
  };
  /** The newest time among whole lines read after `context`, or -Infinity. */
  const newestTime = (lines: Uint8Array, context: Buffer | null): number => {
    probe.clear();
    probe.ingest(context === null ? lines : Buffer.concat([context, NEWLINE, lines]), ingestOptions);
    return probe.watermark;
  };
  /** Each whole line of `block` (starting at file offset `base`) with its offset, in order. */
  function* lines(block: Buffer, base: number): Generator<{ offset: number; line: Buffer }> {
    let start = 0;
    for (let end = block.indexOf(0x0a); end >= 0; end = block.indexOf(0x0a, start)) {
      yield { offset: base + start, line: block.subarray(start, end + 1) };
      start = end + 1;
    }
  }
  /** The offset just after the first "\n" at or after `offset` (a line start), or null. */
  const nextLineStart = async (offset: number): Promise<number | null> => {
    for (let at = offset; at < size; at += BLOCK) {
      const block = await read(at, Math.min(BLOCK, size - at));
      const newline = block.indexOf(0x0a);
      if (newline >= 0) return at + newline + 1;
    }
    return null;
  };
  /** The time of the first timed line starting at or after `start` (a line start) and before `end`, or null. */
  const firstTimeFrom = async (start: number, end: number): Promise<number | null> => {
    for (let at = start; at < end; ) {
      const block = await read(at, Math.min(BLOCK, size - at));
      let consumed = 0;
      for (const { offset, line } of lines(block, at)) {
        if (offset >= end) return null;
        const time = newestTime(line, await contextAt(offset));
        if (time !== -Infinity) return time;
        consumed = offset - at + line.length;
      }
      if (consumed === 0) return null; // a line longer than a block: give up on this probe
      at += consumed;
    }
    return null;
  };

  try {
    // 1. The newest time: whole lines of the last blocks.
    let newest = -Infinity;
    for (let blocks = 1; blocks <= MAX_TAIL_BLOCKS && newest === -Infinity; blocks++) {
      const start = Math.max(0, size - blocks * BLOCK);
      const block = await read(start, Math.min(BLOCK, size - start));
      const from = start === 0 ? 0 : block.indexOf(0x0a) + 1;
      if (start > 0 && from === 0) continue;
      newest = newestTime(block.subarray(from), await contextAt(start + from));
      if (start === 0) break;
    }
    if (newest === -Infinity) return 0;
    const target = newest - windowMs;
    const coarse = target - slackMs;

    // 2. Binary search: `low` is 0 or a line start whose first timed line is older than `coarse`.
    let low = 0;
    let high = size;
    while (high - low > BLOCK) {
      const middle = await nextLineStart(Math.floor((low + high) / 2));
      const time = middle === null || middle >= high ? null : await firstTimeFrom(middle, high);
      if (time === null || time >= coarse) high = Math.floor((low + high) / 2);
      else low = middle!;
    }

    // 3. Scan forward from `low` to the first line at or after `target`.
    let at = low;
    while (at < size) {
      const block = await read(at, Math.min(BLOCK, size - at));
      const last = block.lastIndexOf(0x0a);
      if (last < 0) {
        if (block.length < BLOCK) return at; // an unterminated last line: start there
        at += block.length; // a line longer than a block: skip it
        continue;
      }
      const whole = block.subarray(0, last + 1);
      if (newestTime(whole, await contextAt(at)) >= target) {
        for (const { offset, line } of lines(whole, at)) if (newestTime(line, await contextAt(offset)) >= target) return offset;
      }
      at += whole.length;
    }
    return at;
  } finally {
    probe.close();
  }
}
