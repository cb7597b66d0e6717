/**
 * The shard side: answering a partition's queries from its index, and recording the
 * views written to it. `answerQuery` is pure (index in, reply out) so that the NATS
 * responder and the in-process transport share it; `startShard` serves it on NATS.
 */

import type { ActivityIndex, ViewEvent } from '../activity-index.js';
import { isArgumentError } from '../errors.js';
import type { PartitionSpec } from '../partition.js';
import { partitionOf } from '../partition.js';
import { checkKey, checkTime } from '../validate.js';
import {
  announceSubject,
  PARTITIONS_HEADER,
  queryQueue,
  querySubject,
  viewsSubject,
  WATERMARK_HEADER,
  type ShardAnswer,
  type ShardReply,
  type ShardRequest,
} from './protocol.js';
import { setTimeout as delay } from 'node:timers/promises';
import type { MsgHdrs, NatsConnection, Subscription } from 'nats';
import type { NatsModule } from '../load-nats.js';
import { consumeOrdered, type ConsumerStart, type ResumeGap } from '../sources/jetstream.js';
import type { IngestReport } from '../ingest.js';
import { copyReport, emptyReport, sumReports } from '../sources/ingest-target.js';

/** How often a replaying shard checks whether it has caught up (ms). */
const READY_POLL_MS = 50;

/** Answers one query for partition `spec` from `index`; never throws. */
export function answerQuery(index: ActivityIndex, spec: PartitionSpec, request: ShardRequest): ShardReply {
  const reply: ShardReply = { partition: spec.index, partitions: spec.count };
  if (request === null || typeof request !== 'object' || request.partitions !== spec.count) {
    reply.error = {
      name: 'Error',
      code: 'EPARTITIONS',
      message: `partition ${spec.index} belongs to a cluster of ${spec.count} partitions, but the query expects ${
        (request as { partitions?: unknown })?.partitions
      }: start every shard, publisher, gateway and client with the same N`,
    };
    return reply;
  }
  try {
    reply.ok = run(index, request);
  } catch (error) {
    if (isArgumentError(error)) {
      reply.error = { name: error instanceof TypeError ? 'TypeError' : 'RangeError', message: error.message, argument: error.argument };
    } else {
      reply.error = { name: 'Error', code: 'EINTERNAL', message: (error as Error)?.message ?? String(error) };
    }
  }
  return reply;
}

function run(index: ActivityIndex, request: ShardRequest): ShardAnswer {
  switch (request.op) {
    case 'lastUsers': {
      const k = request.k ?? Math.min(30, index.options.usersPerPage);
      return { rows: index.lastUsers(request.page, k), k };
    }
    case 'userPages':
      return index.userPages(request.user, {
        ...(request.window === undefined ? {} : { window: request.window }),
        ...(request.limit === undefined ? {} : { limit: request.limit }),
        ...(request.now === undefined ? {} : { now: request.now }),
      });
    case 'onlineUsers':
      return index.onlineUsers(request.page, request.k);
    case 'onlineCount':
      return request.page === undefined ? index.onlineCount() : index.onlineCount(request.page);
    case 'stats':
      return index.stats();
    default:
      throw new Error(`unknown query ${JSON.stringify((request as { op?: unknown }).op)}`);
  }
}

/** What recording a batch written to the partition did. */
export interface ViewsOutcome {
  recorded: number;
  /** Events refused: malformed, or of another partition (a writer with another N). */
  refused: number;
}

/**
 * Records views written to partition `spec` (C.views.<p>): each event is checked as
 * POST /views checks it, an event of another partition is refused (counted), then the
 * writer's watermark is followed.
 */
export function recordViews(index: ActivityIndex, spec: PartitionSpec, events: readonly unknown[], watermark: number | undefined): ViewsOutcome {
  const accepted: ViewEvent[] = [];
  let refused = 0;
  const maxKeyBytes = index.options.maxKeyBytes;
  for (const value of events) {
    try {
      const event = value as Record<string, unknown>;
      const user = checkKey(event?.user, 'user', maxKeyBytes);
      const page = checkKey(event.page, 'page', maxKeyBytes);
      const ts = checkTime(event.ts, 'ts');
      if (partitionOf(user, spec.count) !== spec.index) {
        refused++;
        continue;
      }
      accepted.push({ user, page, ts });
    } catch {
      refused++;
    }
  }
  if (accepted.length > 0) index.recordMany(accepted);
  if (watermark !== undefined && Number.isSafeInteger(watermark) && watermark >= 0) index.advanceWatermark(watermark);
  return { recorded: accepted.length, refused };
}

const MAX_SAMPLES = 10;

/**
 * Where a shard's feed comes from: core NATS (what is published while the shard is
 * down is lost to it), or a JetStream stream that captures the feed's subject (a
 * restarted shard replays it from `start`).
 */
export type FeedTransport = { kind: 'core' } | { kind: 'jetstream'; nats: NatsModule; stream: string; start: ConsumerStart };

/** A message of a feed, from either transport. */
interface FeedMessage {
  data: Uint8Array;
  headers?: MsgHdrs | undefined;
}

/**
 * A feed read from a subject; `sequence()` is the last stream sequence handled
 * (JetStream), else 0; `caughtUp()`: it has handled what the stream held for it at
 * start (a core subscription at once).
 */
interface Feed {
  sequence(): number;
  caughtUp(): boolean;
  readonly resumeGap: ResumeGap | null;
  close(): Promise<void>;
}

/** Hands every message of `subject` to `handle`, through `transport`. */
async function openFeed(connection: NatsConnection, subject: string, transport: FeedTransport, handle: (message: FeedMessage) => void, queue?: string): Promise<Feed> {
  if (transport.kind === 'core') {
    const subscription = connection.subscribe(subject, {
      ...(queue === undefined ? {} : { queue }),
      callback: (error, message) => {
        if (error === null) handle(message);
      },
    });
    await connection.flush();
    return { sequence: () => 0, caughtUp: () => true, resumeGap: null, close: () => subscription.drain().catch(() => undefined) };
  }
  const after = 'after' in transport.start ? transport.start.after : 0;
  let sequence = after;
  const consumer = await consumeOrdered(transport.nats, connection, transport.stream, subject, transport.start, (message) => {
    handle(message);
    sequence = message.seq;
  });
  return {
    sequence: () => sequence,
    caughtUp: () => consumer.catchUpSequence !== null && sequence >= consumer.catchUpSequence,
    get resumeGap() {
      return consumer.resumeGap;
    },
    close: () => consumer.stop(),
  };
}

/** A shard's subscription to the publisher's `<subject>.<p>` (NDJSON views with headers). */
export interface PartitionFeed {
  readonly subject: string;
  readonly report: IngestReport;
  stats(): { messages: number; bytes: number; mismatchedBatches: number; sequence: number; resumeGap: ResumeGap | null; caughtUp: boolean };
  close(): Promise<IngestReport>;
}

/**
 * Reads partition `spec`'s share of the publisher's `subject` (`<S>.<p>`): each message
 * is parsed natively as NDJSON through the partition filter (a view of another
 * partition, from a publisher with another N, is counted as other-partition), then the
 * publisher's watermark is followed.
 */
export async function subscribePartitionFeed(
  index: ActivityIndex,
  connection: NatsConnection,
  subject: string,
  spec: PartitionSpec,
  warn: (message: string) => void = () => undefined,
  transport: FeedTransport = { kind: 'core' },
): Promise<PartitionFeed> {
  const options = { format: 'ndjson' as const, partition: spec, maxKeyBytes: index.options.maxKeyBytes };
  let report: IngestReport = emptyReport();
  const counts = { messages: 0, bytes: 0, mismatchedBatches: 0 };
  const feed = await openFeed(connection, subject, transport, (message) => {
    counts.messages++;
    counts.bytes += message.data.byteLength;
    const announced = Number(message.headers?.get(PARTITIONS_HEADER) || spec.count);
    if (announced !== spec.count && ++counts.mismatchedBatches === 1) {
      warn(`${subject}: the publisher splits into ${announced} partitions, this shard is ${spec.index} of ${spec.count}: start both with the same N`);
    }
    try {
      if (message.data.byteLength > 0) {
        report = sumReports([report, index.ingest(message.data, options)]);
        report.samples.splice(MAX_SAMPLES);
      }
      const watermark = Number(message.headers?.get(WATERMARK_HEADER) || NaN);
      if (Number.isSafeInteger(watermark) && watermark >= 0) index.advanceWatermark(watermark);
    } catch (failure) {
      warn(`${subject}: ${(failure as Error).message}`);
    }
  });
  return {
    subject,
    get report() {
      return report;
    },
    stats: () => ({ ...counts, sequence: feed.sequence(), resumeGap: feed.resumeGap, caughtUp: feed.caughtUp() }),
    async close() {
      await feed.close();
      return copyReport(report);
    },
  };
}

export interface ShardStats {
  queries: number;
  viewsRecorded: number;
  viewsRefused: number;
  /** Batches from a writer announcing another partition count. */
  mismatchedBatches: number;
}

export interface RunningShard {
  stats(): ShardStats;
  /**
   * Resolves with true once the shard answers queries (false: closed before): it joins
   * its partition's queue group only when the views written to it have been replayed
   * (JetStream) and `ready()` holds, so a replica still replaying never gives an
   * incomplete answer.
   */
  readonly answering: Promise<boolean>;
  /** Read from JetStream: whether the views the stream held at start are recorded (core NATS: true). */
  viewsCaughtUp(): boolean;
  /** The subject of the views written to this partition (C.views.<p>). */
  readonly viewsSubject: string;
  /** Read from JetStream: the stream sequence of the last batch of views recorded. */
  viewsSequence(): number;
  /** Stops answering (drains the subscriptions); the connection stays open. */
  close(): Promise<void>;
}

/**
 * Serves partition `spec` of cluster `cluster` on `connection`: answers C.query.<p>
 * in the queue group C.shard.<p>, records the views written to C.views.<p> (read
 * through `viewsTransport`), and answers C.shards (every shard announces its
 * partition and N, for a client's check at start). Queries are answered from when the
 * views feed has caught up and `ready()` (default: always) holds — a caller with other
 * feeds of the partition passes their catching up here (checked every 50 ms).
 */
export async function startShard(
  index: ActivityIndex,
  connection: NatsConnection,
  spec: PartitionSpec,
  cluster: string,
  warn: (message: string) => void = () => undefined,
  viewsTransport: FeedTransport = { kind: 'core' },
  ready: () => boolean = () => true,
): Promise<RunningShard> {
  const counts: ShardStats = { queries: 0, viewsRecorded: 0, viewsRefused: 0, mismatchedBatches: 0 };
  const decoder = new TextDecoder();
  const announcement = JSON.stringify({ partition: spec.index, partitions: spec.count });
  const announcing = connection.subscribe(announceSubject(cluster), {
    callback: (error, message) => {
      if (error === null) message.respond(announcement);
    },
  });
  const views = await openFeed(connection, viewsSubject(cluster, spec.index), viewsTransport, (message) => {
    const announced = Number(message.headers?.get(PARTITIONS_HEADER) || spec.count);
    if (announced !== spec.count && ++counts.mismatchedBatches === 1) {
      warn(`views written for a cluster of ${announced} partitions reach partition ${spec.index} of ${spec.count}: their other-partition events are refused`);
    }
    const header = message.headers?.get(WATERMARK_HEADER);
    const watermark = header === undefined || header === '' ? undefined : Number(header);
    const events: unknown[] = [];
    for (const line of decoder.decode(message.data).split('\n')) {
      if (line.trim().length === 0) continue;
      try {
        events.push(JSON.parse(line));
      } catch {
        events.push(null);
      }
    }
    try {
      const outcome = recordViews(index, spec, events, watermark);
      counts.viewsRecorded += outcome.recorded;
      counts.viewsRefused += outcome.refused;
    } catch (failure) {
      warn(`recording views: ${(failure as Error).message}`);
    }
  });
  const answer = () =>
    connection.subscribe(querySubject(cluster, spec.index), {
      queue: queryQueue(cluster, spec.index),
      callback: (error, message) => {
        if (error !== null) return;
        counts.queries++;
        let request: ShardRequest;
        try {
          request = JSON.parse(decoder.decode(message.data)) as ShardRequest;
        } catch {
          message.respond(JSON.stringify({ partition: spec.index, partitions: spec.count, error: { name: 'Error', code: 'EINTERNAL', message: 'the query is not JSON' } }));
          return;
        }
        message.respond(JSON.stringify(answerQuery(index, spec, request)));
      },
    });
  let queries: Subscription | null = null;
  let stopped = false;
  const answering = (async () => {
    while (!stopped && !(views.caughtUp() && ready())) await delay(READY_POLL_MS);
    if (stopped) return false;
    queries = answer();
    await connection.flush();
    return true;
  })().catch((failure: unknown) => {
    warn(`joining the query group: ${(failure as Error).message}`);
    return false;
  });
  await connection.flush();
  return {
    stats: () => ({ ...counts }),
    answering,
    viewsCaughtUp: () => views.caughtUp(),
    viewsSubject: viewsSubject(cluster, spec.index),
    viewsSequence: () => views.sequence(),
    async close() {
      stopped = true;
      await answering.catch(() => undefined);
      await Promise.all([announcing, queries].map((subscription) => subscription?.drain().catch(() => undefined)));
      await views.close();
    },
  };
}
