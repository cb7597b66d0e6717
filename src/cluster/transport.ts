/**
 * How a cluster client reaches the partitions: a ClusterTransport. NATS in production
 * (natsTransport); in process for tests and embedding (inProcessTransport), with the
 * same JSON on the wire so that both behave alike.
 */

import type { NatsConnection } from 'nats';
import type { ActivityIndex } from '../activity-index.js';
import type { NatsModule } from '../load-nats.js';
import { answerQuery, recordViews } from './shard.js';
import { announceSubject, PARTITIONS_HEADER, querySubject, viewsSubject, WATERMARK_HEADER, type ShardReply, type ShardRequest } from './protocol.js';

/** Why a partition gave no reply. */
export type UnavailableReason = 'no-responders' | 'timeout';

/** A partition that did not answer: no shard of it is subscribed, or none answered in time. */
export class PartitionUnavailable extends Error {
  constructor(
    readonly partition: number,
    readonly reason: UnavailableReason,
  ) {
    super(reason === 'timeout' ? `partition ${partition} did not answer in time` : `no shard of partition ${partition} is running`);
  }
}

/** Views a transport could not hand over for good (JetStream did not acknowledge them). */
export class ViewsNotStored extends Error {
  constructor(
    readonly partition: number,
    reason: string,
  ) {
    super(`the views of partition ${partition} were not stored: ${reason}`);
  }
}

/** A shard's announcement: its partition and the N it was started with. */
export interface ShardAnnouncement {
  partition: number;
  partitions: number;
}

export interface ClusterTransport {
  /**
   * Sends a query to one replica of `partition` and resolves with its reply; rejects
   * with PartitionUnavailable when there is none or it does not answer in `timeoutMs`.
   */
  query(partition: number, request: ShardRequest, timeoutMs: number): Promise<ShardReply>;
  /**
   * Delivers NDJSON views to every replica of `partition`, with the writer's latest
   * event time and its partition count. Resolves once the transport has taken them
   * (with JetStream: once the stream has stored them); rejects with ViewsNotStored.
   */
  writeViews(partition: number, ndjson: string, watermark: number, partitions: number): Promise<void>;
  /** The shards running now, as they announce themselves within about `waitMs`. */
  shards(waitMs: number): Promise<ShardAnnouncement[]>;
  close(): Promise<void>;
}

/**
 * The transport over a NATS connection, for the cluster named `cluster`. With
 * `jetstream`, views are published to the JetStream stream that captures C.views.<p>
 * and a write resolves once it has acknowledged them.
 */
export function natsTransport(nats: NatsModule, connection: NatsConnection, cluster: string, ownsConnection: boolean, jetstream = false): ClusterTransport {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const js = jetstream ? connection.jetstream() : null;
  return {
    async query(partition, request, timeoutMs) {
      let message;
      try {
        message = await connection.request(querySubject(cluster, partition), encoder.encode(JSON.stringify(request)), { timeout: timeoutMs });
      } catch (error) {
        const code = (error as { code?: string })?.code;
        if (code === nats.ErrorCode.NoResponders) throw new PartitionUnavailable(partition, 'no-responders');
        if (code === nats.ErrorCode.Timeout) throw new PartitionUnavailable(partition, 'timeout');
        throw error;
      }
      return JSON.parse(decoder.decode(message.data)) as ShardReply;
    },
    async writeViews(partition, ndjson, watermark, partitions) {
      const headers = nats.headers();
      headers.set(WATERMARK_HEADER, String(watermark));
      headers.set(PARTITIONS_HEADER, String(partitions));
      if (js === null) {
        connection.publish(viewsSubject(cluster, partition), encoder.encode(ndjson), { headers });
        await connection.flush();
        return;
      }
      try {
        await js.publish(viewsSubject(cluster, partition), encoder.encode(ndjson), { headers });
      } catch (error) {
        const code = (error as { code?: string })?.code;
        throw new ViewsNotStored(partition, code === nats.ErrorCode.NoResponders ? `no JetStream stream captures ${viewsSubject(cluster, partition)}` : (error as Error).message);
      }
    },
    async shards(waitMs) {
      const found: ShardAnnouncement[] = [];
      try {
        const replies = await connection.requestMany(announceSubject(cluster), new Uint8Array(0), {
          strategy: nats.RequestStrategy.JitterTimer,
          maxWait: waitMs,
          jitter: Math.min(waitMs, 50),
        });
        for await (const reply of replies) {
          const announced = JSON.parse(decoder.decode(reply.data)) as ShardAnnouncement;
          if (Number.isSafeInteger(announced?.partition) && Number.isSafeInteger(announced?.partitions)) found.push(announced);
        }
      } catch {
        // No shard running (no responders): nothing announced.
      }
      return found;
    },
    async close() {
      if (ownsConnection && !connection.isClosed()) await connection.drain().catch(() => undefined);
    },
  };
}

/**
 * An in-process cluster: `replicas[p]` are the indexes serving partition p (an empty
 * list is a partition that is down). Queries go round-robin to the replicas, writes to
 * all, through the same JSON as on NATS. The arrays may be changed while in use.
 */
export function inProcessTransport(replicas: ActivityIndex[][], partitions: number = replicas.length): ClusterTransport {
  const turns = new Array<number>(replicas.length).fill(0);
  return {
    async query(partition, request, _timeoutMs) {
      await Promise.resolve();
      const serving = replicas[partition] ?? [];
      if (serving.length === 0) throw new PartitionUnavailable(partition, 'no-responders');
      const index = serving[turns[partition]!++ % serving.length]!;
      const reply = answerQuery(index, { index: partition, count: partitions }, JSON.parse(JSON.stringify(request)) as ShardRequest);
      return JSON.parse(JSON.stringify(reply)) as ShardReply;
    },
    async writeViews(partition, ndjson, watermark, _announced) {
      await Promise.resolve();
      const events = ndjson
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as unknown);
      for (const index of replicas[partition] ?? []) recordViews(index, { index: partition, count: partitions }, events, watermark);
    },
    async shards() {
      return replicas.flatMap((serving, partition) => serving.map(() => ({ partition, partitions })));
    },
    async close() {},
  };
}
