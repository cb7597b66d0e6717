/**
 * The publisher of a partitioned cluster (`skiptrail publish`): parses log lines
 * natively and publishes each partition's views, as NDJSON, to `<subject>.<p>` in
 * batched messages (native/partition-splitter.h). A shard started with `--subject S
 * --partition I/N` subscribes to `S.I` and so receives 1/N of the views.
 *
 * Every message carries the publisher's watermark (the latest time it has parsed) and
 * its N in headers. A partition that got no views in a batch still gets an empty
 * message when the watermark moved, so that every shard's stream time follows the
 * whole stream (docs/scaling.md).
 *
 * Core NATS delivers at most once: what cannot be published (no connection, the
 * client's reconnect buffer full) is counted as undelivered and said, never hidden.
 */

import { Writable } from 'node:stream';
import type { NatsConnection } from 'nats';
import { addon, type NativePartitionSplitter } from '../binding.js';
import { resolveIngestOptions, type IngestOptions, type IngestReport } from '../ingest.js';
import type { NatsModule } from '../load-nats.js';
import type { IngestStream, IngestTarget } from '../sources/ingest-target.js';
import { PARTITIONS_HEADER, WATERMARK_HEADER } from './protocol.js';

/** Messages stay under NATS's default max_payload (1 MiB). */
const MAX_MESSAGE_BYTES = 512 * 1024;
/** Wait for the server to take what was published every this many bytes (backpressure). */
const FLUSH_EVERY_BYTES = 4 << 20;

export interface PublisherStats {
  /** Views published, and messages and bytes they took. */
  published: number;
  messages: number;
  bytes: number;
  /** Views that could not be published (core NATS: lost), by partition. */
  undelivered: number;
  undeliveredByPartition: Record<number, number>;
  /** The latest event time parsed, or null before any. */
  watermark: number | null;
}

/**
 * An IngestTarget (what follow() and the other sources feed) that publishes instead
 * of indexing. One instance per stream.
 */
export class PartitionPublisher implements IngestTarget {
  readonly #nats: NatsModule;
  readonly #connection: NatsConnection;
  readonly #subject: string;
  readonly #partitions: number;
  readonly #warn: (message: string) => void;
  readonly #counts: PublisherStats = { published: 0, messages: 0, bytes: 0, undelivered: 0, undeliveredByPartition: {}, watermark: null };
  /** The watermark each partition was last told. */
  readonly #told: number[];
  #sinceFlush = 0;

  constructor(nats: NatsModule, connection: NatsConnection, subject: string, partitions: number, warn: (message: string) => void) {
    this.#nats = nats;
    this.#connection = connection;
    this.#subject = subject;
    this.#partitions = partitions;
    this.#warn = warn;
    this.#told = new Array<number>(partitions).fill(-Infinity);
  }

  stats(): PublisherStats {
    return { ...this.#counts, undeliveredByPartition: { ...this.#counts.undeliveredByPartition } };
  }

  ingest(): IngestReport {
    throw new Error('PartitionPublisher publishes streams: use createIngestStream()');
  }

  createIngestStream(options?: IngestOptions): IngestStream {
    const splitter = new addon.NativePartitionSplitter(resolveIngestOptions(options, 65_535), this.#partitions);
    const publisher = this;
    let final: IngestReport | undefined;
    const stream = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        publisher.#send(splitter, splitter.feed(chunk)).then(() => callback(), callback);
      },
      final(callback) {
        publisher
          .#send(splitter, splitter.finish())
          .then(() => publisher.#connection.flush())
          .then(() => {
            final = splitter.report();
            callback();
          }, callback);
      },
    });
    Object.defineProperty(stream, 'report', { get: () => final ?? splitter.report() });
    return stream as IngestStream;
  }

  /** Publishes one batch of outputs, split into messages, with the watermark headers. */
  async #send(splitter: NativePartitionSplitter, outputs: (Buffer | undefined)[]): Promise<void> {
    const watermark = splitter.watermark();
    if (watermark !== -Infinity) this.#counts.watermark = watermark;
    const headers = this.#nats.headers();
    if (watermark !== -Infinity) headers.set(WATERMARK_HEADER, String(watermark));
    headers.set(PARTITIONS_HEADER, String(this.#partitions));
    for (let partition = 0; partition < this.#partitions; partition++) {
      const output = outputs[partition];
      if (output === undefined && !(watermark > this.#told[partition]!)) continue;
      const subject = `${this.#subject}.${partition}`;
      for (const message of output === undefined ? [Buffer.alloc(0)] : cut(output)) {
        const views = countLines(message);
        try {
          this.#connection.publish(subject, message, { headers });
          this.#counts.published += views;
          this.#counts.messages++;
          this.#counts.bytes += message.length;
          this.#sinceFlush += message.length;
        } catch (error) {
          this.#counts.undelivered += views;
          this.#counts.undeliveredByPartition[partition] = (this.#counts.undeliveredByPartition[partition] ?? 0) + views;
          this.#warn(`could not publish ${views} views to ${subject}: ${(error as Error).message}`);
        }
      }
      this.#told[partition] = watermark;
    }
    if (this.#sinceFlush >= FLUSH_EVERY_BYTES) {
      this.#sinceFlush = 0;
      await this.#connection.flush().catch((error: Error) => this.#warn(`flush: ${error.message}`));
    }
  }
}

/** Cuts NDJSON into messages of at most MAX_MESSAGE_BYTES, at line ends. */
function cut(data: Buffer): Buffer[] {
  if (data.length <= MAX_MESSAGE_BYTES) return [data];
  const messages: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    let end = Math.min(start + MAX_MESSAGE_BYTES, data.length);
    if (end < data.length) {
      const newline = data.lastIndexOf(0x0a, end - 1);
      end = newline >= start ? newline + 1 : end;
    }
    messages.push(data.subarray(start, end));
    start = end;
  }
  return messages;
}

function countLines(data: Buffer): number {
  let count = 0;
  for (let at = data.indexOf(0x0a); at >= 0; at = data.indexOf(0x0a, at + 1)) count++;
  return count;
}
