/**
 * The cluster's wire protocol, shared by shards, clients and the gateway: subjects,
 * and the JSON of a query to one partition and of its reply.
 *
 * Subjects, for a cluster named C (default 'skiptrail'):
 *   C.query.<p>   queries to partition p, request/reply; the replicas of p subscribe in
 *                 the queue group C.shard.<p>, so one of them answers each query
 *   C.views.<p>   views recorded through a client or the gateway, NDJSON, with the
 *                 writer's watermark in the Skiptrail-Watermark header; every replica
 *                 of p subscribes (no queue group)
 *   C.shards      every shard answers a request here with { partition, partitions }, so
 *                 a client, gateway or publisher can check N at start
 * Log lines reach shards on subjects of their own (serve --subject; the publisher's
 * <subject>.<p>).
 *
 * Every query carries the number of partitions the client expects and every reply the
 * number the shard was started with, so a cluster whose parts disagree on N fails
 * loudly (ClusterError EPARTITIONS) instead of answering wrongly.
 */

import type { ActivityStats, PageView, UserView } from '../activity-index.js';

export const DEFAULT_CLUSTER = 'skiptrail';
/** The header carrying the writer's latest event time on C.views.<p> and publisher batches. */
export const WATERMARK_HEADER = 'Skiptrail-Watermark';
/** The header carrying the publisher's partition count. */
export const PARTITIONS_HEADER = 'Skiptrail-Partitions';
/** The header carrying, on a JetStream publisher's messages, how far each file was published to that partition (JSON). */
export const POSITIONS_HEADER = 'Skiptrail-Positions';

export const querySubject = (cluster: string, partition: number) => `${cluster}.query.${partition}`;
export const queryQueue = (cluster: string, partition: number) => `${cluster}.shard.${partition}`;
export const viewsSubject = (cluster: string, partition: number) => `${cluster}.views.${partition}`;
export const announceSubject = (cluster: string) => `${cluster}.shards`;

/** A cluster name: NATS subject tokens, no wildcards or spaces. */
export function isClusterName(name: string): boolean {
  return /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name);
}

export type ShardQuery =
  | { op: 'lastUsers'; page: string; k?: number }
  | { op: 'userPages'; user: string; window?: number | string; limit?: number; now?: number }
  | { op: 'onlineUsers'; page: string; k: number }
  | { op: 'onlineCount'; page?: string }
  | { op: 'stats' };

/** What a client sends: the query and the partition count it expects. */
export type ShardRequest = ShardQuery & { partitions: number };

/** A validation error thrown by the shard's index, passed back to the caller. */
export interface ShardArgumentError {
  name: 'TypeError' | 'RangeError';
  message: string;
  argument?: string;
}

export type ShardAnswer = UserView[] | PageView[] | number | ActivityStats | { rows: UserView[]; k: number };

export interface ShardReply {
  /** The partition that answered, and the count it was started with. */
  partition: number;
  partitions: number;
  ok?: ShardAnswer;
  error?: ShardArgumentError | { name: 'Error'; message: string; code: 'EPARTITIONS' | 'EINTERNAL' };
}
