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
 *
 * With JetStream (a stream capturing `<subject>.>`), each batch waits for the stream's
 * acknowledgements before the next is read, and every message also carries, in
 * Skiptrail-Positions, how far each followed file has been published to that
 * partition. A restarted publisher reads the last message of each partition's subject
 * (storedPositions), re-publishes to each partition exactly what it lacks (catchUp)
 * and follows on from there: nothing lost, nothing twice.
 */

import * as fs from 'node:fs';
import { Writable } from 'node:stream';
import type { JetStreamClient, NatsConnection } from 'nats';
import { addon, type NativePartitionSplitter } from '../binding.js';
import { resolveIngestOptions, type IngestOptions, type IngestReport } from '../ingest.js';
import type { NatsModule } from '../load-nats.js';
import type { IngestStream, IngestTarget, LineEnd } from '../sources/ingest-target.js';
import type { FollowPosition } from '../sources/follow.js';
import { emptyReport } from '../sources/ingest-target.js';
import { contextBefore } from '../sources/resume-context.js';
import { PARTITIONS_HEADER, POSITIONS_HEADER, WATERMARK_HEADER } from './protocol.js';

/** Messages stay under NATS's default max_payload (1 MiB). */
const MAX_MESSAGE_BYTES = 512 * 1024;
/** How long a confirmation (flush) may take before the views stay unconfirmed. */
const CONFIRM_TIMEOUT_MS = 2000;
/** Wait for the server to take what was published every this many bytes (backpressure). */
const FLUSH_EVERY_BYTES = 4 << 20;
/** Catch-up reads of a file, in pieces of this size at most. */
const CATCH_UP_READ_BYTES = 64 << 10;

/** How far each followed file (by path) has been published to one partition. */
export type PublishedPositions = Record<string, { dev: number; ino: number; offset: number }>;

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
  /** With JetStream: the client, and how far each partition has been given each file. */
  readonly #jetstream: JetStreamClient | null;
  readonly #positions: PublishedPositions[];

  /** `positions`: with JetStream, those a restarted publisher found stored (storedPositions). */
  constructor(
    nats: NatsModule,
    connection: NatsConnection,
    subject: string,
    partitions: number,
    warn: (message: string) => void,
    jetstream: { positions?: (PublishedPositions | null)[] } | null = null,
  ) {
    this.#nats = nats;
    this.#connection = connection;
    this.#subject = subject;
    this.#partitions = partitions;
    this.#warn = warn;
    this.#told = new Array<number>(partitions).fill(-Infinity);
    this.#pending = new Array<number>(partitions).fill(0);
    this.#jetstream = jetstream === null ? null : connection.jetstream();
    this.#positions = Array.from({ length: partitions }, (_, p) => ({ ...(jetstream?.positions?.[p] ?? {}) }));
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
    /** Where the next write ends (follow() says it before writing whole lines). */
    let lineEnd: LineEnd | null = null;
    const stream = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _encoding, callback) {
        const at = lineEnd;
        lineEnd = null;
        publisher.#send(splitter, splitter.feed(chunk), at).then(() => callback(), callback);
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
    Object.defineProperty(stream, 'lineEndAt', { value: (position: LineEnd) => (lineEnd = position) });
    Object.defineProperty(stream, 'readContext', { value: (lines: Uint8Array) => splitter.readContext(lines) });
    return stream as IngestStream;
  }

  /**
   * After a restart with JetStream: publishes to each partition what the stored
   * positions say it lacks of `file`, and returns where following must go on (the
   * furthest position), or null when nothing of the file was published yet. The bytes
   * between the positions are parsed in pieces cut at each of them, and a partition is
   * given a piece's views only if the piece ends past its own position.
   */
  async catchUp(file: string, options: IngestOptions | undefined): Promise<FollowPosition | null> {
    const stored = this.#positions.map((positions) => positions[file]);
    const known = stored.filter((position) => position !== undefined);
    if (known.length === 0) return null;
    const { dev, ino } = known[0]!;
    if (known.some((position) => position.dev !== dev || position.ino !== ino)) {
      // The file rotated while partitions were at different places: resume from the earliest.
      const earliest = known.reduce((a, b) => (a.offset <= b.offset ? a : b));
      this.#warn(`${file}: the partitions stopped in different generations of the file (rotated meanwhile); resuming from the earliest: views may reach some partitions twice`);
      return { kind: 'follow', path: file, ...earliest, report: emptyReport() };
    }
    const ends = stored.map((position) => position?.offset ?? 0);
    const cuts = [...new Set(ends)].sort((a, b) => a - b);
    const last = cuts[cuts.length - 1]!;
    if (cuts.length > 1) {
      let handle: fs.promises.FileHandle;
      try {
        handle = await fs.promises.open(file, 'r');
      } catch (error) {
        this.#warn(`${file}: cannot read it to catch up (${(error as Error).message}); following from the furthest position`);
        return { kind: 'follow', path: file, dev, ino, offset: last, report: emptyReport() };
      }
      try {
        const stat = await handle.stat();
        if (stat.dev !== dev || stat.ino !== ino || stat.size < last) {
          this.#warn(`${file}: not the file the stored positions name any more; partitions behind may miss views between offsets ${cuts[0]} and ${last}`);
        } else {
          const splitter = new addon.NativePartitionSplitter(resolveIngestOptions(options, 65_535), this.#partitions);
          // Read from the middle: the parser's context there (a W3C '#Fields:').
          const context = await contextBefore(handle, cuts[0]!, options ?? {});
          if (context !== null) splitter.readContext(context);
          for (let i = 1; i < cuts.length; i++) {
            const from = cuts[i - 1]!;
            const to = cuts[i]!;
            for (let at = from; at < to; at += CATCH_UP_READ_BYTES) {
              const piece = Buffer.alloc(Math.min(CATCH_UP_READ_BYTES, to - at));
              await handle.read(piece, 0, piece.length, at);
              const outputs = splitter.feed(piece);
              // Only whole lines: each stored position is a line end.
              const end = at + piece.length === to ? { path: file, dev, ino, offset: to } : null;
              await this.#send(splitter, outputs, end, (partition) => ends[partition]! < to);
            }
          }
        }
      } finally {
        await handle.close();
      }
    }
    return { kind: 'follow', path: file, dev, ino, offset: last, report: emptyReport() };
  }

  /**
   * Publishes one batch of outputs, split into messages, with the watermark headers;
   * `end`: where the batch ends in its file (JetStream's positions); `to`: the
   * partitions to publish to (a catch-up), default all.
   */
  async #send(splitter: NativePartitionSplitter, outputs: (Buffer | undefined)[], end: LineEnd | null = null, to?: (partition: number) => boolean): Promise<void> {
    const watermark = splitter.watermark();
    if (watermark !== -Infinity) this.#counts.watermark = watermark;
    const acks: Promise<void>[] = [];
    for (let partition = 0; partition < this.#partitions; partition++) {
      if (to !== undefined && !to(partition)) continue;
      const output = outputs[partition];
      const moved = watermark > this.#told[partition]!;
      if (output === undefined && !moved && !(this.#jetstream !== null && end !== null)) continue;
      const subject = `${this.#subject}.${partition}`;
      const messages = output === undefined ? [Buffer.alloc(0)] : cut(output);
      messages.forEach((message, i) => {
        const headers = this.#nats.headers();
        if (watermark !== -Infinity) headers.set(WATERMARK_HEADER, String(watermark));
        headers.set(PARTITIONS_HEADER, String(this.#partitions));
        if (this.#jetstream !== null) {
          // The last message of the batch says the partition has the file up to `end`.
          if (end !== null && i === messages.length - 1) this.#positions[partition]![end.path] = { dev: end.dev, ino: end.ino, offset: end.offset };
          headers.set(POSITIONS_HEADER, JSON.stringify(this.#positions[partition]));
        }
        const views = countLines(message);
        try {
          if (this.#jetstream !== null) {
            acks.push(
              this.#jetstream.publish(subject, message, { headers }).then(
                () => {
                  this.#counts.published += views;
                },
                (error: Error) => this.#undelivered(partition, views, `${subject} did not store ${views} views: ${error.message}`),
              ),
            );
          } else {
            this.#connection.publish(subject, message, { headers });
            this.#pending[partition]! += views;
            this.#counts.unconfirmed += views;
          }
          this.#counts.messages++;
          this.#counts.bytes += message.length;
          this.#sinceFlush += message.length;
        } catch (error) {
          this.#undelivered(partition, views, `could not publish ${views} views to ${subject}: ${(error as Error).message}`);
        }
      });
      this.#told[partition] = watermark;
    }
    if (this.#jetstream !== null) {
      // The stream has acknowledged (or refused) the batch before the next is read.
      await Promise.all(acks);
      return;
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

  #undelivered(partition: number, views: number, message: string): void {
    this.#counts.undelivered += views;
    this.#counts.undeliveredByPartition[partition] = (this.#counts.undeliveredByPartition[partition] ?? 0) + views;
    if (views > 0) this.#warn(message);
  }
}

/**
 * What a JetStream stream holds of a publisher's `<subject>.<p>`: for each partition,
 * the positions carried by its last message (null: none stored). Rejects when no
 * stream captures the subjects.
 */
export async function storedPositions(connection: NatsConnection, subject: string, partitions: number): Promise<{ stream: string; positions: (PublishedPositions | null)[] }> {
  const manager = await connection.jetstreamManager();
  let stream: string;
  try {
    stream = await manager.streams.find(`${subject}.0`);
  } catch {
    throw new Error(`no JetStream stream captures ${subject}.<p>: create one, such as: nats stream add LOGS --subjects '${subject}.>'`);
  }
  const positions = await Promise.all(
    Array.from({ length: partitions }, async (_, partition) => {
      try {
        const message = await manager.streams.getMessage(stream, { last_by_subj: `${subject}.${partition}` });
        const header = message.header.get(POSITIONS_HEADER);
        return header === '' ? null : (JSON.parse(header) as PublishedPositions);
      } catch (error) {
        if ((error as { code?: string }).code === '404') return null;
        throw error;
      }
    }),
  );
  return { stream, positions };
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
