/**
 * Feeds an index from standard input, a file or any Node Readable: a pipeline into
 * index.createIngestStream(). Gzip input is recognised by its magic bytes and
 * decompressed on the way (concatenated gzip members too, as `cat a.gz b.gz` makes).
 */

import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import type { IngestOptions, IngestReport, IngestTarget } from './ingest-target.js';
import { copyReport, pickIngestOptions } from './ingest-target.js';
import { rangeError, typeError } from '../errors.js';
import { checkSourceOptions } from '../validate.js';

export interface ReadableSourceOptions extends IngestOptions {
  /** Decompress gzip input: 'auto' (default) looks at the first two bytes. */
  gunzip?: 'auto' | boolean;
  /** Aborts the pipeline; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
}

const READABLE_OPTION_NAMES = ['gunzip', 'signal'];
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/**
 * Ingests everything `source` yields (Buffers or strings, cut anywhere) and resolves
 * with the report once it has ended. A last line without "\n" counts.
 */
export async function ingestReadable(
  index: IngestTarget,
  source: NodeJS.ReadableStream | AsyncIterable<Buffer | string>,
  options: ReadableSourceOptions = {},
): Promise<IngestReport> {
  const given = checkSourceOptions(options, 'ingestReadable()', READABLE_OPTION_NAMES);
  if (given.gunzip !== undefined && given.gunzip !== 'auto' && typeof given.gunzip !== 'boolean') {
    throw (typeof given.gunzip === 'string' ? rangeError : typeError)('options.gunzip', "'auto', true or false", given.gunzip);
  }
  if (given.signal !== undefined && !(given.signal instanceof AbortSignal)) {
    throw typeError('options.signal', 'an AbortSignal', given.signal);
  }
  const sink = index.createIngestStream(pickIngestOptions(options));
  const gunzip = options.gunzip ?? 'auto';
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  if (gunzip === true) {
    await pipeline(source as AsyncIterable<Buffer>, zlib.createGunzip(), sink, signal);
  } else if (gunzip === 'auto') {
    await pipeline(source as AsyncIterable<Buffer>, gunzipIfCompressed, sink, signal);
  } else {
    await pipeline(source as AsyncIterable<Buffer>, sink, signal);
  }
  return copyReport(sink.report);
}

/** Ingests standard input until it ends. */
export function ingestStdin(index: IngestTarget, options: ReadableSourceOptions = {}): Promise<IngestReport> {
  return ingestReadable(index, process.stdin, options);
}

/** Ingests a whole file, gzip or plain ('-' is standard input). */
export function ingestFile(index: IngestTarget, file: string, options: ReadableSourceOptions = {}): Promise<IngestReport> {
  if (file === '-') return ingestStdin(index, options);
  return ingestReadable(index, fs.createReadStream(file, { highWaterMark: 1 << 20 }), options);
}

/**
 * Passes its input through, gunzipping it when it starts with the gzip magic bytes.
 * For use as a pipeline() stage.
 */
export async function* gunzipIfCompressed(source: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  while (head.length < 2) {
    const next = await iterator.next();
    if (next.done === true) {
      if (head.length > 0) yield head;
      return;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
  }
  const rest = (async function* () {
    yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  })();
  if (head[0] !== GZIP_MAGIC_0 || head[1] !== GZIP_MAGIC_1) {
    yield* rest;
    return;
  }
  const inflater = zlib.createGunzip();
  const feeding = pipeline(Readable.from(rest, { objectMode: false }), inflater);
  // Its failure also destroys `inflater`, which fails the loop below; awaited after it.
  feeding.catch(() => undefined);
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
    await feeding;
  } finally {
    inflater.destroy();
    await feeding.catch(() => undefined);
  }
}
