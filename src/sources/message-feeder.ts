/**
 * MessageFeeder: turns a sequence of messages that each hold one or more whole log lines
 * (UDP datagrams, NATS messages) into one ingest stream. Messages that arrive in the same
 * turn of the event loop are joined and written in one native call; a message whose last
 * line lacks "\n" gets one, so a line never runs into the next message.
 */

import { once } from 'node:events';
import type { IngestOptions, IngestReport, IngestStream, IngestTarget } from './ingest-target.js';
import { bytesFed, copyReport } from './ingest-target.js';

const NEWLINE = Buffer.from('\n');
/** A batch is written at once when it reaches this many bytes (bounds one synchronous parse). */
const MAX_BATCH_BYTES = 64 << 10;

export interface MessageCounts {
  /** Messages received (empty ones included). */
  messages: number;
  /** Bytes received, before any "\n" was added. */
  bytes: number;
}

export class MessageFeeder {
  readonly #stream: IngestStream;
  #batch: Buffer[] = [];
  #batchBytes = 0;
  #flushScheduled = false;
  #ended = false;
  #error: Error | null = null;
  readonly counts: MessageCounts = { messages: 0, bytes: 0 };
  // Positions (docs/persistence.md): each write's end in stream bytes, with the tag of
  // the last message it holds; the tag of the last message the index holds.
  #written = 0;
  #marks: { at: number; tag: unknown }[] = [];
  #pendingTag: { tag: unknown } | null = null;
  #settledTag: unknown = undefined;

  constructor(index: IngestTarget, options: IngestOptions) {
    this.#stream = index.createIngestStream(options);
    // Parse errors never reach here (they are counted); only a closed index or a
    // programming error does. Keep it for close() rather than crash the process.
    this.#stream.on('error', (error: Error) => {
      this.#error ??= error;
    });
  }

  /** The live report of every line fed so far. */
  get report(): IngestReport {
    return this.#stream.report;
  }

  /**
   * Queues one message. REQUIRES: `data` is not modified afterwards (it is not copied).
   * `tag` (a JetStream sequence, …) is what settledTag() answers once the index holds
   * this message's lines.
   */
  push(data: Uint8Array, tag?: unknown): void {
    if (this.#ended) return;
    this.counts.messages++;
    this.counts.bytes += data.byteLength;
    if (tag !== undefined) this.#pendingTag = { tag };
    if (data.byteLength === 0) {
      if (this.#batch.length === 0) this.#mark();
      return;
    }
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.#batch.push(chunk);
    this.#batchBytes += chunk.length;
    if (chunk[chunk.length - 1] !== 0x0a) {
      this.#batch.push(NEWLINE);
      this.#batchBytes += 1;
    }
    if (this.#batchBytes >= MAX_BATCH_BYTES) {
      this.flush();
    } else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes the queued messages now. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#batch.length === 0 || this.#error !== null) return;
    const data = this.#batch.length === 1 ? this.#batch[0]! : Buffer.concat(this.#batch, this.#batchBytes);
    this.#batch = [];
    this.#batchBytes = 0;
    this.#written += data.length;
    this.#stream.write(data);
    this.#mark();
  }

  /** Once the stream has parsed what was written so far, the pending tag is settled. */
  #mark(): void {
    if (this.#pendingTag === null) return;
    this.#marks.push({ at: this.#written, tag: this.#pendingTag.tag });
    this.#pendingTag = null;
  }

  /** The tag of the last tagged message whose lines the index holds, or undefined. */
  settledTag(): unknown {
    const fed = bytesFed(this.#stream, this.#written);
    while (this.#marks.length > 0 && this.#marks[0]!.at <= fed) this.#settledTag = this.#marks.shift()!.tag;
    return this.#settledTag;
  }

  /** Writes what is queued, ends the stream and resolves with the final report. */
  async end(): Promise<IngestReport> {
    if (!this.#ended) {
      this.#ended = true;
      this.flush();
      if (this.#error === null && !this.#stream.writableFinished) {
        const finished = once(this.#stream, 'finish');
        this.#stream.end();
        await finished;
      }
    }
    if (this.#error !== null) throw this.#error;
    return copyReport(this.#stream.report);
  }
}
