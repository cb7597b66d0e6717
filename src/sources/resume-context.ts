/**
 * contextBefore: what a parser must have read before an offset of a log file to read
 * the lines after it as it would reading the file from its start (docs/ingest.md, "W3C
 * files read from the middle").
 *
 * Only W3C extended logs carry state from line to line: their '#Fields:' directive
 * names the fields of the lines after it, and may change mid-file. A reader that starts
 * in the middle (follow() resumed from a stored position, started at the end or at a
 * time) is given the last '#Fields:' line before its offset, found by reading the file
 * backwards from there, block by block; the native session reads it for its state only
 * (IngestStream.readContext), so it is not counted. The cost is one backward read from
 * the offset to that directive: IIS writes one at the start of every file, CloudFront
 * files are small.
 */

import type * as fsp from 'node:fs/promises';
import type { IngestOptions } from './ingest-target.js';

/** Bytes read per step backwards. */
const BLOCK = 64 << 10;
const FIELDS = Buffer.from('#Fields:');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The lines before `offset` in the file that the parser of `options` needs (the last
 * W3C '#Fields:' line, without its "\n"), or null when the format keeps no state or
 * the file has no such line before the offset. Only whole lines count: a line that
 * `offset` cuts is not one. A directive line is at most `options.maxLineBytes` long, as
 * any line (a longer one is not read as one).
 */
export async function contextBefore(handle: fsp.FileHandle, offset: number, options: IngestOptions): Promise<Buffer | null> {
  return (await contextLineBefore(handle, offset, options))?.line ?? null;
}

/** contextBefore()'s line with the offset just after its "\n": the context of every offset from there to `offset`. */
export async function contextLineBefore(handle: fsp.FileHandle, offset: number, options: IngestOptions): Promise<{ line: Buffer; end: number } | null> {
  if (options.format !== 'w3c' || offset <= 0) return null;
  return lastDirectiveBefore(handle, offset, options.maxLineBytes ?? 64 * 1024, options.syslog === true);
}

/**
 * Reads backwards from `offset`. `carry` holds the bytes from the start of the last
 * block read up to and including its first "\n": a line whose start is not known yet,
 * checked once the block before it is read. A directive must start its line (after a
 * BOM); with syslog frames, '#Fields:' anywhere in the line counts, the native parser
 * checking the frame.
 */
async function lastDirectiveBefore(handle: fsp.FileHandle, offset: number, maxLineBytes: number, syslog: boolean): Promise<{ line: Buffer; end: number } | null> {
  let carry = Buffer.alloc(0);
  for (let end = offset; end > 0; ) {
    const start = Math.max(0, end - BLOCK);
    const block = Buffer.allocUnsafe(end - start);
    const { bytesRead } = await handle.read(block, 0, block.length, start);
    if (bytesRead < block.length) return null; // the file shrank under us: no context
    const data = carry.length === 0 ? block : Buffer.concat([block, carry]);
    // Lines that start inside `data` after its first "\n" (or at the file's start) are whole here.
    const firstNewline = data.indexOf(0x0a);
    const checkedFrom = start === 0 ? 0 : firstNewline + 1;
    if (firstNewline >= 0 || start === 0) {
      for (let at = data.lastIndexOf(FIELDS); at >= checkedFrom; at = at === 0 ? -1 : data.lastIndexOf(FIELDS, at - 1)) {
        const lineStart = at === 0 ? 0 : data.lastIndexOf(0x0a, at - 1) + 1;
        if (lineStart < checkedFrom) break;
        const lineEnd = data.indexOf(0x0a, at);
        if (lineEnd < 0) continue; // the line `offset` cuts: not a whole line
        const startsLine = lineStart === at || (lineStart + BOM.length === at && data.subarray(lineStart, at).equals(BOM));
        if (!startsLine && !syslog) continue;
        if (lineEnd - lineStart > maxLineBytes + 1) continue;
        return { line: Buffer.from(data.subarray(lineStart, lineEnd)), end: start + lineEnd + 1 };
      }
    }
    if (start === 0) return null;
    // The first line fragment waits for the block before it; one longer than any line
    // cannot be a directive, and is dropped.
    const fragment = firstNewline < 0 ? data : data.subarray(0, firstNewline + 1);
    carry = fragment.length > maxLineBytes + 2 ? Buffer.alloc(0) : Buffer.from(fragment);
    end = start;
  }
  return null;
}
