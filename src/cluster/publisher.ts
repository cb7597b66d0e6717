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
/** How long a confirmation (flush) may take before the views stay unconfirmed. */
const CONFIRM_TIMEOUT_MS = 2000;
/** Wait for the server to take what was published every this many bytes (backpressure). */
const FLUSH_EVERY_BYTES = 4 << 20;

export interface PublisherStats {
  /** Views the server confirmed it has taken (a flush answered after them). */
  published: number;
  /** Views handed to the client and not confirmed yet (buffered while disconnected, or in flight). */
  unconfirmed: number;
  /** Messages and bytes handed to the client. */
  messages: number;
  bytes: number;
  /** Views that could not be published or were never confirmed by close() (core NATS: lost), by partition. */
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
  readonly #counts: PublisherStats = { published: 0, unconfirmed: 0, messages: 0, bytes: 0, undelivered: 0, undeliveredByPartition: {}, watermark: null };
  /** Views per partition handed to the client since the last confirmed flush. */
  readonly #pending: number[];
  /** The watermark each partition was last told. */
  readonly #told: number[];
  #sinceFlush = 0;
  #confirming: Promise<boolean> | null = null;

  constructor(nats: NatsModule, connection: NatsConnection, subject: string, partitions: number, warn: (message: string) => void) {
    this.#nats = nats;
    this.#connection = connection;
    this.#subject = subject;
    this.#partitions = partitions;
    this.#warn = warn;
    this.#told = new Array<number>(partitions).fill(-Infinity);
    this.#pending = new Array<number>(partitions).fill(0);
  }

  /**
   * Waits for the server to confirm everything published so far (a flush: NATS
   * handles a connection's messages in order). Resolves false when it does not answer
   * within `timeoutMs` (disconnected: the client holds the views in its reconnect
   * buffer); they stay unconfirmed.
   */
  async confirm(timeoutMs = CONFIRM_TIMEOUT_MS): Promise<boolean> {
    const pending = [...this.#pending];
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const flushed = this.#connection.flush().then(
      () => true,
      () => false,
    );
    const ok = await Promise.race([flushed, timedOut]);
    clearTimeout(timer);
    if (!ok) return false;
    pending.forEach((views, partition) => {
      this.#pending[partition]! -= views;
      this.#counts.published += views;
      this.#counts.unconfirmed -= views;
    });
    return true;
  }

  /**
   * Confirms what is pending; what the server never confirms is counted as undelivered
   * (and said). Resolves with the final stats. The connection stays open.
   */
  async close(timeoutMs = CONFIRM_TIMEOUT_MS): Promise<PublisherStats> {
    if (!(await this.confirm(timeoutMs))) {
      const lost = this.#pending.map((views, partition) => [partition, views] as const).filter(([, views]) => views > 0);
      for (const [partition, views] of lost) {
        this.#counts.undelivered += views;
        this.#counts.undeliveredByPartition[partition] = (this.#counts.undeliveredByPartition[partition] ?? 0) + views;
        this.#counts.unconfirmed -= views;
        this.#pending[partition] = 0;
      }
      if (lost.length > 0) {
        this.#warn(
          `the server did not confirm ${lost.reduce((sum, [, views]) => sum + views, 0)} views (${lost
            .map(([partition, views]) => `${this.#subject}.${partition}: ${views}`)
            .join(', ')}): they are counted as undelivered`,
        );
      }
    }
    return this.stats();
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
          this.#pending[partition]! += views;
          this.#counts.unconfirmed += views;
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
      // Backpressure: wait for the server to take what was sent.
      this.#sinceFlush = 0;
      if (!(await this.confirm())) this.#warn(`the server has not confirmed ${this.#counts.unconfirmed} views yet (disconnected?)`);
    } else if (this.#confirming === null && this.#counts.unconfirmed > 0) {
      // Otherwise confirm in the background, one flush at a time.
      this.#confirming = this.confirm().finally(() => (this.#confirming = null));
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
