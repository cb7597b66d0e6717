/**
 * IngestStream: the Writable returned by index.createIngestStream(). Chunks may be cut
 * anywhere; the native session keeps at most one partial line between them and flushes
 * the last line when the stream ends.
 *
 * While the index makes a snapshot image (index.save()), chunks wait in the stream's
 * buffer (with the usual backpressure) and are parsed once the image is done.
 */

import { Writable } from 'node:stream';

import type { NativeIngestSession } from './binding.js';
import { encodeLogText, type IngestReport } from './ingest.js';

/**
 * @internal The index's clock as a stream feeding it sees it: the latest time a line
 * may carry (wall clock + maxFutureSkew), read before each native call, and a notice
 * after it, so that the index follows its watermark.
 */
export interface IngestClock {
  maxTs(): number;
  fed(): void;
}

/** A promise while the index cannot change (a snapshot image is being made), else null. */
export type IngestGate = () => Promise<void> | null;

export class IngestStream extends Writable {
  readonly #session: NativeIngestSession;
  readonly #clock: IngestClock;
  readonly #gate: IngestGate;
  #bytesFed = 0;
  #final: IngestReport | undefined;

  /** @internal Use index.createIngestStream(). */
  constructor(session: NativeIngestSession, clock: IngestClock, gate: IngestGate = () => null) {
    // Strings are encoded here (encodeLogText), not by Writable, so that a lone
    // surrogate makes its line bad-encoding instead of U+FFFD.
    super({ decodeStrings: false, highWaterMark: 64 * 1024 });
    this.#session = session;
    this.#clock = clock;
    this.#gate = gate;
  }

  /**
   * Bytes handed to the parser so far (written bytes still buffered in the stream are
   * not counted). A source compares it with what it wrote to know which of its input
   * the index holds, for a snapshot position.
   */
  get bytesFed(): number {
    return this.#bytesFed;
  }

  #feed(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? encodeLogText(chunk) : chunk;
    this.#session.feed(bytes, this.#clock.maxTs());
    this.#bytesFed += bytes.byteLength;
  }

  /**
   * @internal Lines that came before this stream's input in the same file, which set
   * the parser's state without being counted: a W3C file's last '#Fields:' before the
   * offset a follower starts at (src/sources/resume-context.ts). REQUIRES: nothing
   * written yet is still waiting to be parsed (else an Error).
   */
  readContext(lines: Uint8Array): void {
    if (this.writableLength > 0) throw new Error('readContext(): bytes written before it are still waiting to be parsed');
    this.#session.readContext(lines);
  }

  /**
   * The report so far; from 'finish' on, the final one. It is also emitted as
   * 'report', after 'finish' and never inside end(), so both `await once(stream,
   * 'report')` and `await finished(stream)` work when called after end().
   */
  get report(): IngestReport {
    return this.#final ?? this.#session.report();
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const wait = this.#gate();
    if (wait !== null) {
      wait.then(() => this._write(chunk, encoding, callback), callback);
      return;
    }
    try {
      this.#feed(chunk);
      this.#clock.fed();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _writev(chunks: { chunk: Buffer | string }[], callback: (error?: Error | null) => void): void {
    const wait = this.#gate();
    if (wait !== null) {
      wait.then(() => this._writev(chunks, callback), callback);
      return;
    }
    try {
      for (const { chunk } of chunks) this.#feed(chunk);
      this.#clock.fed();
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    const wait = this.#gate();
    if (wait !== null) {
      wait.then(() => this._final(callback), callback);
      return;
    }
    try {
      this.#session.finish(this.#clock.maxTs());
      this.#clock.fed();
      const report = this.#session.report();
      this.#final = report;
      this.once('finish', () => process.nextTick(() => this.emit('report', report)));
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}
