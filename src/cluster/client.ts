/**
 * connectCluster(options): one client for N partitioned shards, with the ActivityIndex
 * query methods (asynchronous) and exact answers:
 *   - Q2 (userPages) asks the partition that owns the user;
 *   - Q1 and Q3 (lastUsers, onlineUsers) ask every partition at once and merge their
 *     top k by rank (merge.ts): no user is on two partitions;
 *   - onlineCount sums; stats sums (pages: a page on several partitions counts in each).
 * A partition that does not answer in `timeout`, twice (a dead replica may be asked
 * first), fails the call with ClusterError EPARTITION naming it, unless `allowPartial`
 * is set.
 */

import type { ConnectionOptions } from 'nats';
import type { ActivityStats, PageView, UserPagesOptions, UserView, ViewEvent } from '../activity-index.js';
import { parseDuration } from '../duration.js';
import { rangeError, rangeErrorWith, typeError } from '../errors.js';
import { loadNats } from '../load-nats.js';
import { MAX_PARTITIONS, partitionOf } from '../partition.js';
import { checkBoolean, checkInteger, checkKey, checkQueryKey, checkTime, MAX_SAFE_TIME } from '../validate.js';
import { mergeTopK } from './merge.js';
import { DEFAULT_CLUSTER, isClusterName, type ShardAnswer, type ShardQuery, type ShardReply, type ShardRequest } from './protocol.js';
import { natsTransport, PartitionUnavailable, ViewsNotStored, type ClusterTransport } from './transport.js';

export interface ClusterOptions {
  /** NATS server URL(s). Not needed with `transport`. */
  servers?: string | string[];
  /** The number of partitions, N: the same for every shard, publisher and gateway. */
  partitions: number;
  /**
   * Milliseconds each partition has to answer. Default 2000. A partition that does not
   * answer in time is asked once more (another replica may answer), so a call fails with
   * EPARTITION after at most 2 × timeout.
   */
  timeout?: number;
  /** The cluster's name, the first token of its subjects. Default 'skiptrail'. */
  cluster?: string;
  /** Answer from the partitions that replied instead of failing; see `missing`. Default false. */
  allowPartial?: boolean;
  /** Called for each partial answer (with allowPartial) with the partitions missing from it. */
  onPartial?: (missing: number[], method: string) => void;
  /** More options for the NATS client's connect(). */
  connect?: ConnectionOptions;
  /**
   * Write views through JetStream: record() and recordMany() resolve once the stream
   * capturing C.views.<p> has stored them (shards started with --jetstream replay it
   * after a restart); a write it does not acknowledge fails with EWRITE. Default false
   * (core NATS: at most once).
   */
  jetstream?: boolean;
  /** Another way to reach the partitions (inProcessTransport for tests). */
  transport?: ClusterTransport;
}

/** An answer list; with allowPartial, `missing` lists the partitions it lacks (non-enumerable). */
export type ClusterList<T> = T[] & { readonly missing?: readonly number[] };

export interface PartitionStats extends ActivityStats {
  partition: number;
}

export interface ClusterStats extends ActivityStats {
  /** Each partition's own stats (from the replica that answered). */
  partitions: PartitionStats[];
  /** Partitions that did not answer (with allowPartial). */
  missing: number[];
}

export interface ClusterClient {
  readonly partitions: number;
  lastUsers(page: string, k?: number): Promise<ClusterList<UserView>>;
  userPages(user: string, options?: UserPagesOptions): Promise<ClusterList<PageView>>;
  onlineUsers(page: string, k?: number): Promise<ClusterList<UserView>>;
  onlineCount(page?: string): Promise<number>;
  stats(): Promise<ClusterStats>;
  /** Writes one view to its partition (C.views.<p>). */
  record(user: string, page: string, ts?: number | Date): Promise<void>;
  /** Writes views to their partitions; every partition also learns the batch's latest time. */
  recordMany(events: Iterable<ViewEvent>): Promise<number>;
  close(): Promise<void>;
}

export type ClusterErrorCode = 'EPARTITION' | 'EPARTITIONS' | 'EWRITE' | 'EINTERNAL' | 'ECLOSED';

/** A cluster call that failed for another reason than its arguments. */
export class ClusterError extends Error {
  override name = 'ClusterError';
  constructor(
    message: string,
    readonly code: ClusterErrorCode,
    /** The partitions concerned (EPARTITION: those that did not answer; EWRITE: those whose views were not stored). */
    readonly partitions: number[] = [],
  ) {
    super(message);
  }
}

const DEFAULT_TIMEOUT_MS = 2000;
const LARGEST_KEY_BYTES = 65_535;
const OPTION_NAMES = new Set(['servers', 'partitions', 'timeout', 'cluster', 'allowPartial', 'onPartial', 'connect', 'jetstream', 'transport']);
/** How long connectCluster() listens for the shards' announcements (at most `timeout`). */
const ANNOUNCE_WAIT_MS = 250;

/** Connects to NATS (unless given a transport) and resolves with the client. */
export async function connectCluster(options: ClusterOptions): Promise<ClusterClient> {
  if (options === null || typeof options !== 'object') throw typeError('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.has(key)) throw rangeErrorWith(`options.${key}`, `options.${key} is not an option of connectCluster(); its options are ${[...OPTION_NAMES].join(', ')}`);
  }
  const partitions = checkInteger(options.partitions, 'options.partitions', 1, MAX_PARTITIONS);
  const timeout = options.timeout === undefined ? DEFAULT_TIMEOUT_MS : checkInteger(options.timeout, 'options.timeout', 1, 600_000);
  const cluster = options.cluster ?? DEFAULT_CLUSTER;
  if (typeof cluster !== 'string' || !isClusterName(cluster)) throw rangeError('options.cluster', 'NATS subject tokens such as "skiptrail" or "site.eu"', cluster);
  const allowPartial = options.allowPartial === undefined ? false : checkBoolean(options.allowPartial, 'options.allowPartial');
  const jetstream = options.jetstream === undefined ? false : checkBoolean(options.jetstream, 'options.jetstream');
  let transport = options.transport;
  if (transport === undefined) {
    if (options.servers === undefined) throw typeError('options.servers', 'a NATS URL or a list of them (or give options.transport)', options.servers);
    const nats = await loadNats('connectCluster()');
    const connection = await nats.connect({ name: 'skiptrail cluster client', maxReconnectAttempts: -1, ...options.connect, servers: options.servers });
    transport = natsTransport(nats, connection, cluster, true, jetstream);
  }
  try {
    await checkShardCount(transport, cluster, partitions, 'this client', Math.min(timeout, ANNOUNCE_WAIT_MS));
  } catch (error) {
    await transport.close();
    throw error;
  }
  return new Cluster(transport, partitions, timeout, allowPartial, options.onPartial);
}

/**
 * Refuses, with ClusterError EPARTITIONS, a cluster whose running shards announce
 * another partition count than `partitions` (`who` expects it). Shards that start
 * later are checked on each answer instead.
 */
export async function checkShardCount(transport: Pick<ClusterTransport, 'shards'>, cluster: string, partitions: number, who: string, waitMs = ANNOUNCE_WAIT_MS): Promise<void> {
  const disagreeing = (await transport.shards(waitMs)).filter((shard) => shard.partitions !== partitions);
  if (disagreeing.length === 0) return;
  const counts = [...new Set(disagreeing.map((shard) => shard.partitions))].sort((a, b) => a - b);
  throw new ClusterError(
    `the cluster ${cluster} has shards started with ${counts.join(' and ')} partitions (such as partition ${disagreeing[0]!.partition} of ${disagreeing[0]!.partitions}), but ${who} expects ${partitions}: start every shard, publisher, gateway and client with the same N`,
    'EPARTITIONS',
    [...new Set(disagreeing.map((shard) => shard.partition))].sort((a, b) => a - b),
  );
}

/** The replies of the partitions asked, by partition, and those that gave none. */
interface Gathered {
  answers: Map<number, ShardAnswer>;
  missing: number[];
}

class Cluster implements ClusterClient {
  #closed = false;
  readonly #all: number[];

  constructor(
    readonly transport: ClusterTransport,
    readonly partitions: number,
    readonly timeout: number,
    readonly allowPartial: boolean,
    readonly onPartial: ((missing: number[], method: string) => void) | undefined,
  ) {
    this.#all = Array.from({ length: partitions }, (_, p) => p);
  }

  async lastUsers(page: string, k?: number): Promise<ClusterList<UserView>> {
    const mayExist = checkQueryKey(page, 'page');
    if (k !== undefined && !(Number.isSafeInteger(k) && k >= 1)) {
      if (typeof k !== 'number') throw typeError('k', 'a number', k);
      throw rangeError('k', 'an integer in 1 .. usersPerPage (the shards\' option)', k);
    }
    if (!mayExist) return [];
    const { answers, missing } = await this.#gather(this.#all, { op: 'lastUsers', page, ...(k === undefined ? {} : { k }) }, 'lastUsers');
    const replies = [...answers.values()] as { rows: UserView[]; k: number }[];
    const limit = k ?? Math.max(0, ...replies.map((reply) => reply.k));
    return this.#list(mergeTopK(replies.map((reply) => reply.rows), limit), missing);
  }

  async userPages(user: string, options: UserPagesOptions = {}): Promise<ClusterList<PageView>> {
    const mayExist = checkQueryKey(user, 'user');
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object', options);
    const query: ShardQuery = { op: 'userPages', user };
    if (options.window !== undefined) {
      parseDuration(options.window, 'options.window');
      query.window = options.window;
    }
    if (options.limit !== undefined) query.limit = checkInteger(options.limit, 'options.limit', 1, MAX_SAFE_TIME);
    if (options.now !== undefined) query.now = checkTime(options.now, 'options.now');
    if (!mayExist) return [];
    const owner = partitionOf(user, this.partitions);
    const { answers, missing } = await this.#gather([owner], query, 'userPages');
    return this.#list((answers.get(owner) as PageView[] | undefined) ?? [], missing);
  }

  async onlineUsers(page: string, k = 30): Promise<ClusterList<UserView>> {
    const mayExist = checkQueryKey(page, 'page');
    checkInteger(k, 'k', 1, MAX_SAFE_TIME);
    if (!mayExist) return [];
    const { answers, missing } = await this.#gather(this.#all, { op: 'onlineUsers', page, k }, 'onlineUsers');
    return this.#list(mergeTopK([...answers.values()] as UserView[][], k), missing);
  }

  async onlineCount(page?: string): Promise<number> {
    if (page !== undefined && !checkQueryKey(page, 'page')) return 0;
    const { answers } = await this.#gather(this.#all, page === undefined ? { op: 'onlineCount' } : { op: 'onlineCount', page }, 'onlineCount');
    let total = 0;
    for (const count of answers.values()) total += count as number;
    return total;
  }

  async stats(): Promise<ClusterStats> {
    const { answers, missing } = await this.#gather(this.#all, { op: 'stats' }, 'stats');
    const partitions: PartitionStats[] = [];
    const total: ClusterStats = { events: 0, pages: 0, users: 0, entries: 0, late: 0, evicted: 0, online: 0, watermark: -Infinity, memoryBytes: 0, partitions, missing };
    for (const [partition, answer] of [...answers].sort((a, b) => a[0] - b[0])) {
      const stats = answer as ActivityStats;
      const watermark = stats.watermark ?? -Infinity; // JSON carries -Infinity as null
      partitions.push({ partition, ...stats, watermark });
      for (const key of ['events', 'pages', 'users', 'entries', 'late', 'evicted', 'online', 'memoryBytes'] as const) total[key] += stats[key];
      total.watermark = Math.max(total.watermark, watermark);
    }
    return total;
  }

  async record(user: string, page: string, ts?: number | Date): Promise<void> {
    checkKey(user, 'user', LARGEST_KEY_BYTES);
    checkKey(page, 'page', LARGEST_KEY_BYTES);
    await this.#write([{ user, page, ts: ts === undefined ? Date.now() : checkTime(ts, 'ts') }]);
  }

  async recordMany(events: Iterable<ViewEvent>): Promise<number> {
    if (events === null || typeof events !== 'object' || typeof (events as any)[Symbol.iterator] !== 'function') {
      throw typeError('events', 'an iterable of { user, page, ts }', events);
    }
    const list = Array.from(events, (event, i) => {
      if (event === null || typeof event !== 'object') throw typeError(`events[${i}]`, 'an object', event);
      return {
        user: checkKey(event.user, `events[${i}].user`, LARGEST_KEY_BYTES),
        page: checkKey(event.page, `events[${i}].page`, LARGEST_KEY_BYTES),
        ts: checkTime(event.ts, `events[${i}].ts`),
      };
    });
    if (list.length > 0) await this.#write(list);
    return list.length;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.transport.close();
  }

  /** Sends each partition its events, and every partition the batch's latest time. */
  async #write(events: { user: string; page: string; ts: number }[]): Promise<void> {
    this.#checkOpen();
    const batches: string[] = new Array(this.partitions).fill('');
    let watermark = 0;
    for (const event of events) {
      batches[partitionOf(event.user, this.partitions)] += `${JSON.stringify(event)}\n`;
      if (event.ts > watermark) watermark = event.ts;
    }
    const settled = await Promise.allSettled(batches.map((ndjson, partition) => this.transport.writeViews(partition, ndjson, watermark, this.partitions)));
    const failed = settled.flatMap((outcome, partition) => (outcome.status === 'rejected' ? [{ partition, reason: outcome.reason as unknown }] : []));
    if (failed.length === 0) return;
    const other = failed.find((failure) => !(failure.reason instanceof ViewsNotStored));
    if (other !== undefined) throw other.reason;
    throw new ClusterError(
      `${failed.map((failure) => (failure.reason as Error).message).join('; ')}${failed.length < this.partitions ? '; the other partitions stored theirs' : ''}`,
      'EWRITE',
      failed.map((failure) => failure.partition),
    );
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClusterError('the cluster client is closed', 'ECLOSED');
  }

  #list<T>(rows: T[], missing: number[]): ClusterList<T> {
    if (missing.length > 0) Object.defineProperty(rows, 'missing', { value: missing, enumerable: false });
    return rows;
  }

  /**
   * One partition's reply. A timeout is asked once more: NATS hands each request to one
   * member of the partition's queue group, and a replica that died (SIGKILL, a lost
   * machine) can still be picked until the server notices its connection is gone.
   */
  async #ask(partition: number, request: ShardRequest): Promise<ShardReply> {
    try {
      return await this.transport.query(partition, request, this.timeout);
    } catch (error) {
      if (!(error instanceof PartitionUnavailable) || error.reason !== 'timeout' || this.#closed) throw error;
      return this.transport.query(partition, request, this.timeout);
    }
  }

  /** Asks `targets` at once; throws on a shard's error, or on a missing partition unless allowPartial. */
  async #gather(targets: number[], query: ShardQuery, method: string): Promise<Gathered> {
    this.#checkOpen();
    const request = { ...query, partitions: this.partitions };
    const settled = await Promise.allSettled(targets.map((partition) => this.#ask(partition, request)));
    const answers = new Map<number, ShardAnswer>();
    const missing: PartitionUnavailable[] = [];
    let failure: unknown;
    settled.forEach((outcome, i) => {
      if (outcome.status === 'rejected') {
        if (outcome.reason instanceof PartitionUnavailable) missing.push(outcome.reason);
        else failure ??= outcome.reason;
        return;
      }
      const reply: ShardReply = outcome.value;
      if (reply.error !== undefined) {
        failure ??= replyError(reply);
      } else if (reply.partitions !== this.partitions || reply.partition !== targets[i]) {
        failure ??= new ClusterError(
          `partition ${targets[i]} was answered by a shard of partition ${reply.partition} of ${reply.partitions}, but this client expects ${this.partitions} partitions: start every shard, publisher, gateway and client with the same N`,
          'EPARTITIONS',
          [targets[i]!],
        );
      } else {
        answers.set(targets[i]!, reply.ok!);
      }
    });
    if (failure !== undefined) throw failure;
    if (missing.length > 0) {
      const numbers = missing.map((gone) => gone.partition);
      if (!this.allowPartial) {
        const why = missing.map((gone) => `partition ${gone.partition} ${gone.reason === 'timeout' ? `did not answer within ${this.timeout} ms` : 'has no shard running'}`);
        throw new ClusterError(
          `${method}: ${why.join('; ')} (of ${this.partitions} partitions); the answer would be incomplete`,
          'EPARTITION',
          numbers,
        );
      }
      this.onPartial?.(numbers, method);
    }
    return { answers, missing: missing.map((gone) => gone.partition) };
  }
}

/** A shard's error reply as what the caller would have got from an index. */
function replyError(reply: ShardReply): Error {
  const error = reply.error!;
  if (error.name === 'TypeError' || error.name === 'RangeError') {
    const made = error.name === 'TypeError' ? new TypeError(error.message) : new RangeError(error.message);
    if ('argument' in error && error.argument !== undefined) Object.defineProperty(made, 'argument', { value: error.argument, enumerable: true });
    return made;
  }
  const code = 'code' in error && error.code === 'EPARTITIONS' ? 'EPARTITIONS' : 'EINTERNAL';
  return new ClusterError(`partition ${reply.partition}: ${error.message}`, code, [reply.partition]);
}
