/**
 * ActivityIndex: the public class (docs/contract.md section 7). It validates arguments, packs
 * batches for one native call, and turns the native engine's flat results into
 * objects, with an id -> string cache so a hot key's string is not rebuilt per query.
 */

import { addon, type NativeActivityIndex, type NativeResult, type NativeStats } from './binding.js';
import type { Duration } from './duration.js';
import { parseDuration } from './duration.js';
import { closedError, rangeError, SnapshotError, typeError, type ArgumentError, type SnapshotErrorCode } from './errors.js';
import { encodeLogText, resolveIngestOptions, type IngestOptions, type IngestReport } from './ingest.js';
import { engineTuning } from './engine-tuning.js';
import { IngestStream, type IngestClock } from './ingest-stream.js';
import {
  collectPositions,
  inspectSnapshot,
  optionsToJson,
  readSnapshotFile,
  writeFileAtomic,
  type SavedSnapshot,
  type SaveOptions,
  type SourcePosition,
} from './snapshot.js';
import {
  checkInteger,
  checkKey,
  checkOptions,
  checkQueryKey,
  checkTime,
  MAX_SAFE_TIME,
  resolveOptions,
  resolveWallClock,
  type ActivityIndexOptions,
  type ResolvedOptions,
} from './validate.js';

/** One page view. `ts` is ms since the Unix epoch, or a Date. */
export interface ViewEvent {
  user: string;
  page: string;
  ts: number | Date;
}

/** A Q1/Q3 answer row: a user and the time of their latest view. */
export interface UserView {
  user: string;
  ts: number;
}

/** A Q2 answer row: a page and the time of the user's latest view of it. */
export interface PageView {
  page: string;
  ts: number;
}

export interface UserPagesOptions {
  /** How far back from `now`; default and maximum: the userWindow option. */
  window?: Duration;
  /** The end of the window (ms or Date); default: "now" as the index's clock tells it (docs/semantics.md, "Time"). */
  now?: number | Date;
  /** At most this many rows; default: all. */
  limit?: number;
}

export interface ActivityStats extends NativeStats {}

const USER_PAGES_OPTIONS: ReadonlySet<string> = new Set(['window', 'now', 'limit']);

/**
 * An own enumerable property holding a symbol makes the structured clone
 * (worker.postMessage, workerData, structuredClone) throw a DataCloneError that quotes
 * this text; without it the index would arrive in the other thread as `{}` (private
 * fields are not cloned, and the engine lives in this thread's memory).
 */
const NOT_CLONEABLE = Symbol(
  'an ActivityIndex belongs to the thread that created it and cannot be posted to another: ' +
    'open one per worker, or serve one (skiptrail serve) and use createClient() (docs/api.md, "Sharing one index")',
);

/** What loadSnapshot() gives back besides the index. */
export interface LoadedSnapshot {
  index: ActivityIndex;
  /** When the snapshot was made (ms since the epoch). */
  createdAt: number;
  /** The positions its sources stored, by source name (pass each to its source's `resume`). */
  sources: Record<string, SourcePosition>;
  bytes: number;
  durationMs: number;
}

/** A snapshot image being made by save(), a step per event-loop turn. */
interface ImageInProgress {
  /** Resolves when the image is complete (the index may change again). */
  done: Promise<void>;
  finished: () => void;
  buffer: Buffer | null;
  longestStepMs: number;
}

/** Time one step of a snapshot image may hold the event loop, in ms. */
const SNAPSHOT_STEP_MS = 8;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** recordMany's marker for "this key is sent as a string" (native/activity-index-wrap.h). */
const NO_ID = 0xffffffff;

/**
 * key -> id for the keys recordMany has sent, so a hot key crosses as a number rather
 * than a string (no concatenation, UTF-8 conversion, hashing or probing). Holds only
 * ids that name their key as of the last takeFreedIds(): the engine logs every id it
 * frees, and the cache forgets them before each batch. `keyOf` is the cache's own
 * reverse map (the query caches' id -> key arrays may have moved on to a reused id).
 */
class KeyIdCache {
  readonly ids = new Map<string, number>();
  keyOf: (string | undefined)[] = [];

  learn(key: string, id: number): void {
    this.ids.set(key, id);
    while (this.keyOf.length < id) this.keyOf.push(undefined);
    this.keyOf[id] = key;
  }

  forget(id: number): void {
    const key = this.keyOf[id];
    if (key === undefined) return;
    this.ids.delete(key);
    this.keyOf[id] = undefined;
  }

  clear(): void {
    this.ids.clear();
    this.keyOf = [];
  }
}

/** Result arrays start this long and grow on demand up to what a query may return. */
const INITIAL_RESULT_CAPACITY = 256;
/** Result arrays never grow past this many rows by doubling alone. */
const MAX_RESULT_ROWS = 1 << 20;

export class ActivityIndex {
  readonly #options: ResolvedOptions;
  #native: NativeActivityIndex | null;
  #ids = new Uint32Array(0);
  #times = new Float64Array(0);
  /** [0]: a result's count, [1 + i]: the length of row i's key when new to the caches, else 0. */
  #keyLengths = new Uint32Array(1);
  /** id -> key caches, filled from native results (see native/activity-index-wrap.h). */
  #userKeys: string[] = [];
  #pageKeys: string[] = [];
  /** key -> id caches for recordMany (see KeyIdCache). */
  #userIds = new KeyIdCache();
  #pageIds = new KeyIdCache();
  /** Scratch for recordMany, reused across calls. */
  #batchLengths = new Uint32Array(0);
  #batchTimes = new Float64Array(0);
  #batchIds = new Uint32Array(0);
  /** The snapshot image save() is making; the index must not change meanwhile. */
  #image: ImageInProgress | null = null;
  /** How long one step of a snapshot image may hold the event loop (ms). */
  readonly #snapshotStepMs: number;

  // Time (docs/semantics.md, "Time"). Every event that moves the watermark passes
  // through record(), recordMany(), ingest() or an ingest stream, which keep these.
  readonly #wallClock: () => number;
  /** The watermark as last moved here: -Infinity before any event. */
  #watermark = -Infinity;
  /** The largest (ts - wall clock at arrival) of the events that moved the watermark: the 'stream' clock runs this far from the wall clock. */
  #lead = -Infinity;
  /** The wall clock when the current ingest call began (its lines' arrival time). */
  #feedWall = 0;
  readonly #ingestClock: IngestClock = { maxTs: () => this.#ingestMaxTs(), fed: () => this.#ingestFed() };

  constructor(options?: ActivityIndexOptions) {
    Object.defineProperty(this, 'thread', { value: NOT_CLONEABLE, enumerable: true });
    const resolved = resolveOptions(options);
    this.#wallClock = resolveWallClock(options);
    this.#options = resolved;
    const none = (value: number) => (value === Infinity ? -1 : value);
    this.#native = new addon.NativeActivityIndex(
      resolved.usersPerPage,
      resolved.pagesPerUser,
      resolved.userWindow,
      none(resolved.pageWindow),
      resolved.presenceWindow,
      none(resolved.maxPages),
      none(resolved.maxUsers),
      resolved.maxKeyBytes,
      engineTuning(),
    );
    this.#snapshotStepMs = engineTuning()?.snapshotStepMs ?? SNAPSHOT_STEP_MS;
    this.#ensureCapacity(Math.min(INITIAL_RESULT_CAPACITY, Math.max(resolved.usersPerPage, resolved.pagesPerUser)));
  }

  /**
   * Loads a snapshot written by save() (docs/persistence.md). `options` may repeat
   * options of the saved index; one that differs from the file rejects with
   * SnapshotError code 'EOPTIONS'. A damaged, cut, foreign or newer file rejects with a
   * SnapshotError too; nothing half-loaded is returned. The content is rebuilt on a
   * worker thread.
   */
  static async load(file: string, options?: ActivityIndexOptions): Promise<ActivityIndex> {
    return (await loadSnapshot(file, options)).index;
  }

  /**
   * Saves the index to `file` (docs/persistence.md), with the positions of
   * `options.sources` read at the same instant. The image is of that moment: it is made
   * natively in steps of about SNAPSHOT_STEP_MS, one per event-loop turn, while the
   * index does not change (ingest streams wait; a synchronous change ends the image
   * first). The file is written, fsynced and renamed over `file` on libuv's thread pool,
   * so a crash leaves the old file or the new one.
   */
  async save(file: string, options: SaveOptions = {}): Promise<SavedSnapshot> {
    this.#open();
    if (typeof file !== 'string' || file.length === 0) throw typeError('path', 'a non-empty string', file);
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object', options);
    while (this.#image !== null) await this.#image.done; // one image at a time
    const native = this.#open();
    const started = performance.now();
    const createdAt = Date.now();
    const facade = JSON.stringify({
      sources: collectPositions(options.sources),
      lead: Number.isFinite(this.#lead) ? this.#lead : null,
    });
    native.beginSnapshot(createdAt, optionsToJson(this.#options), facade);
    let finished!: () => void;
    const image: ImageInProgress = { done: new Promise<void>((resolve) => (finished = resolve)), finished, buffer: null, longestStepMs: 0 };
    this.#image = image;
    while (image.buffer === null) {
      const stepStarted = performance.now();
      if (this.#native === null) throw closedError();
      const done = native.stepSnapshot(this.#snapshotStepMs);
      image.longestStepMs = Math.max(image.longestStepMs, performance.now() - stepStarted);
      if (done) this.#finishImage();
      else await yieldToEventLoop();
    }
    const serializeMs = performance.now() - started;
    await writeFileAtomic(file, image.buffer);
    return {
      path: file,
      bytes: image.buffer.byteLength,
      createdAt,
      serializeMs,
      longestStepMs: image.longestStepMs,
      durationMs: performance.now() - started,
    };
  }

  /** Ends the image in progress now, synchronously (before a change to the index). */
  #finishImage(): void {
    const image = this.#image;
    if (image === null) return;
    const native = this.#open();
    const started = performance.now();
    native.stepSnapshot(0);
    image.buffer = native.finishSnapshot();
    image.longestStepMs = Math.max(image.longestStepMs, performance.now() - started);
    this.#image = null;
    image.finished();
  }

  /** @internal Puts a snapshot's content in this (new, empty) index; see loadSnapshot(). */
  async restoreFrom(file: string, data: Uint8Array, lead: number | null): Promise<void> {
    const native = this.#open();
    await new Promise<void>((resolve, reject) => {
      native.restoreSnapshot(data, (error) => {
        if (error === null) resolve();
        else reject(new SnapshotError(error.code as SnapshotErrorCode, file, error.message));
      });
    });
    this.#userKeys = [];
    this.#pageKeys = [];
    this.#watermark = native.watermark();
    this.#lead = lead ?? -Infinity;
  }

  /** The options in force, with defaults filled in (windows in ms). */
  get options(): Readonly<ResolvedOptions> {
    return { ...this.#options };
  }

  /** Indexes one view; `ts` defaults to Date.now(). */
  record(user: string, page: string, ts?: number | Date): void {
    const native = this.#open();
    if (this.#image !== null) this.#finishImage();
    const maxKeyBytes = this.#options.maxKeyBytes;
    checkKey(user, 'user', maxKeyBytes);
    checkKey(page, 'page', maxKeyBytes);
    const time = ts === undefined ? this.#wall() : checkTime(ts, 'ts');
    if (time <= this.#watermark) {
      native.record(user, page, time);
      return;
    }
    // A new watermark: the only case where the time can be too far ahead (an older
    // event is behind one already accepted), and the only one the 'stream' clock needs.
    const wall = ts === undefined ? time : this.#wall();
    if (time > wall + this.#options.maxFutureSkew) throw this.#futureError('ts', ts, wall);
    native.record(user, page, time);
    this.#moved(time, wall);
  }

  /**
   * Indexes a batch in one native call. The whole batch is checked first: an invalid
   * event throws, naming its position, and nothing of the batch is indexed.
   * Returns the number of events indexed.
   */
  recordMany(events: Iterable<ViewEvent>): number {
    const native = this.#open();
    if (this.#image !== null) this.#finishImage();
    if (events === null || typeof events !== 'object' || typeof (events as any)[Symbol.iterator] !== 'function') {
      throw typeError('events', 'an iterable of { user, page, ts }', events);
    }
    const list: readonly ViewEvent[] = Array.isArray(events) ? events : Array.from(events);
    const count = list.length;
    if (this.#batchTimes.length < count) {
      this.#batchLengths = new Uint32Array(2 * count);
      this.#batchTimes = new Float64Array(count);
      this.#batchIds = new Uint32Array(2 * count);
    }
    const lengths = this.#batchLengths;
    const times = this.#batchTimes;
    const ids = this.#batchIds;
    const maxKeyBytes = this.#options.maxKeyBytes;
    this.#forgetFreedIds(native);
    const userIds = this.#userIds.ids;
    const pageIds = this.#pageIds.ids;
    // Events before this index have passed the full check (#checkEvents).
    let checked = 0;
    let keys = '';
    let newest = -Infinity;
    for (let i = 0; i < count; i++) {
      const event = list[i];
      // The common case in one test: short string keys and a number ts. Anything else
      // gets the full check, which throws the batch's first error in order. Lone
      // surrogates are left to the native side, which finds them while converting.
      if (
        event === null ||
        typeof event !== 'object' ||
        typeof event.user !== 'string' ||
        typeof event.page !== 'string' ||
        typeof event.ts !== 'number' ||
        event.user.length === 0 ||
        event.page.length === 0 ||
        event.user.length * 3 > maxKeyBytes ||
        event.page.length * 3 > maxKeyBytes ||
        !Number.isSafeInteger(event.ts) ||
        event.ts < 0
      ) {
        this.#checkEvents(list, checked, i + 1);
        checked = i + 1;
      }
      const user = event!.user;
      const page = event!.page;
      const ts = event!.ts;
      const time = typeof ts === 'number' ? ts : ts.getTime(); // checked: a number or a valid Date
      times[i] = time;
      if (time > newest) newest = time;
      const userId = userIds.get(user);
      if (userId === undefined) {
        ids[2 * i] = NO_ID;
        lengths[2 * i] = user.length;
        keys += user;
      } else {
        ids[2 * i] = userId;
        lengths[2 * i] = 0;
      }
      const pageId = pageIds.get(page);
      if (pageId === undefined) {
        ids[2 * i + 1] = NO_ID;
        lengths[2 * i + 1] = page.length;
        keys += page;
      } else {
        ids[2 * i + 1] = pageId;
        lengths[2 * i + 1] = 0;
      }
    }
    if (count === 0) return 0;
    const moves = newest > this.#watermark;
    const wall = moves ? this.#wall() : 0;
    if (moves && newest > wall + this.#options.maxFutureSkew) {
      const limit = wall + this.#options.maxFutureSkew;
      const at = times.subarray(0, count).findIndex((time) => time > limit);
      this.#checkEvents(list, checked, at); // an earlier invalid event is the first error
      throw this.#futureError(`events[${at}].ts`, list[at]!.ts, wall);
    }
    if (native.recordMany(keys, lengths, times, count, ids) < 0) {
      // A key holds a lone surrogate: nothing was indexed. Throw the first error in order.
      this.#checkEvents(list, checked, count);
      throw new Error('skiptrail: recordMany rejected a batch that passed validation');
    }
    if (moves) this.#moved(newest, wall);
    // Forget the ids the batch freed, then learn the ids of the keys sent as strings
    // (those still valid: see native/activity-index-wrap.h), for both caches.
    this.#forgetFreedIds(native);
    for (let i = 0; i < count; i++) {
      if (lengths[2 * i] !== 0 && ids[2 * i] !== NO_ID) {
        const user = list[i]!.user;
        this.#userIds.learn(user, ids[2 * i]!);
        this.#remember(this.#userKeys, ids[2 * i]!, user);
      }
      if (lengths[2 * i + 1] !== 0 && ids[2 * i + 1] !== NO_ID) {
        const page = list[i]!.page;
        this.#pageIds.learn(page, ids[2 * i + 1]!);
        this.#remember(this.#pageKeys, ids[2 * i + 1]!, page);
      }
    }
    return count;
  }

  /** Applies the engine's log of freed ids to the key -> id caches. */
  #forgetFreedIds(native: NativeActivityIndex): void {
    const freed = native.takeFreedIds();
    if (freed === null) return;
    const userCount = freed[0]!;
    const overflowed = freed[1]!;
    if (overflowed & 1) this.#userIds.clear();
    else for (let i = 0; i < userCount; i++) this.#userIds.forget(freed[2 + i]!);
    if (overflowed & 2) this.#pageIds.clear();
    else for (let i = 2 + userCount; i < freed.length; i++) this.#pageIds.forget(freed[i]!);
  }

  /** Sets keys[id] = key, keeping the array packed (see #learn). */
  #remember(keys: string[], id: number, key: string): void {
    while (keys.length < id) keys.push('');
    keys[id] = key;
  }

  /** The full check of events[from .. to): throws, naming the first invalid event. */
  #checkEvents(list: readonly ViewEvent[], from: number, to: number): void {
    const maxKeyBytes = this.#options.maxKeyBytes;
    for (let i = from; i < to; i++) {
      const event = list[i];
      if (event === null || typeof event !== 'object') throw typeError(`events[${i}]`, 'an object', event);
      checkKey(event.user, `events[${i}].user`, maxKeyBytes);
      checkKey(event.page, `events[${i}].page`, maxKeyBytes);
      checkTime(event.ts, `events[${i}].ts`);
    }
  }

  /**
   * Parses whole log lines natively and indexes the page views (docs/contract.md section 5,
   * docs/ingest.md). A last line without "\n" counts. Bad lines are counted and
   * sampled in the report, never thrown.
   */
  ingest(data: Uint8Array | string, options?: IngestOptions): IngestReport {
    const native = this.#open();
    if (this.#image !== null) this.#finishImage();
    const resolved = resolveIngestOptions(options, this.#options.maxKeyBytes);
    let bytes: Uint8Array;
    if (typeof data === 'string') bytes = encodeLogText(data);
    else if (data instanceof Uint8Array) bytes = data;
    else throw typeError('data', 'a Buffer, Uint8Array or string', data);
    const report = native.ingest(bytes, resolved, this.#ingestMaxTs());
    this.#ingestFed();
    return report;
  }

  /**
   * A Writable that parses and indexes log chunks cut anywhere; `stream.report` and
   * the 'report' event give the report. Works with stream.pipeline().
   */
  createIngestStream(options?: IngestOptions): IngestStream {
    const native = this.#open();
    const resolved = resolveIngestOptions(options, this.#options.maxKeyBytes);
    return new IngestStream(new addon.NativeIngestSession(native, resolved), this.#ingestClock, () => this.#image?.done ?? null);
  }

  /** Q1: the last `k` distinct users of `page`, most recent first. `k` defaults to min(30, usersPerPage). */
  lastUsers(page: string, k: number = Math.min(30, this.#options.usersPerPage)): UserView[] {
    const native = this.#open();
    const mayExist = checkQueryKey(page, 'page');
    checkInteger(k, 'k', 1, this.#options.usersPerPage);
    if (!mayExist) return [];
    this.#ensureCapacity(k);
    return this.#userRows(native.lastUsers(page, k));
  }

  /** Q2: the pages `user` loaded in [now - window, now], most recent first. */
  userPages(user: string, options: UserPagesOptions = {}): PageView[] {
    const native = this.#open();
    const mayExist = checkQueryKey(user, 'user');
    checkOptions(options, 'options', 'userPages()', USER_PAGES_OPTIONS);
    const userWindow = this.#options.userWindow;
    const window = options.window === undefined ? userWindow : parseDuration(options.window, 'options.window');
    if (window > userWindow) throw rangeError('options.window', `at most userWindow (${userWindow} ms)`, options.window);
    const limit =
      options.limit === undefined
        ? this.#options.pagesPerUser
        : Math.min(checkInteger(options.limit, 'options.limit', 1, MAX_SAFE_TIME), this.#options.pagesPerUser);
    let now: number;
    if (options.now !== undefined) {
      now = checkTime(options.now, 'options.now');
    } else {
      now = this.#now(native);
      if (now === -Infinity) return [];
    }
    if (!mayExist) return [];
    this.#ensureCapacity(limit);
    return this.#pageRows(native.userPages(user, now - window, now, limit));
  }

  /** Q3: up to `k` users whose latest view is of `page` and recent enough, most recent first. */
  onlineUsers(page: string, k = 30): UserView[] {
    const native = this.#open();
    const mayExist = checkQueryKey(page, 'page');
    checkInteger(k, 'k', 1, MAX_SAFE_TIME);
    if (!mayExist) return [];
    const now = this.#presenceNow(native);
    if (k > this.#ids.length) this.#ensureCapacity(Math.min(k, native.onlineCount(page, now)));
    return this.#userRows(native.onlineUsers(page, k, now));
  }

  /** Q3: how many users are on `page` now, or online anywhere when `page` is omitted. */
  onlineCount(page?: string): number {
    const native = this.#open();
    if (page !== undefined && !checkQueryKey(page, 'page')) return 0;
    return native.onlineCount(page, this.#presenceNow(native));
  }

  /**
   * Moves the watermark (stream time) to `ts` when that is later, as an event at `ts`
   * would, without recording anything: expiry, presence and eviction follow. A shard of
   * a cluster calls it with the times of other partitions' views (docs/scaling.md).
   */
  advanceWatermark(ts: number | Date): void {
    const native = this.#open();
    const time = checkTime(ts, 'ts');
    if (time <= this.#watermark) return;
    // As for an event: refused when too far ahead (maxFutureSkew), and followed by the 'stream' clock.
    const wall = this.#wall();
    if (time > wall + this.#options.maxFutureSkew) throw this.#futureError('ts', ts, wall);
    if (this.#image !== null) this.#finishImage();
    native.advanceWatermark(time);
    this.#moved(time, wall);
  }

  /** The largest `ts` of any accepted event, or -Infinity before the first. */
  get watermark(): number {
    return this.#open().watermark();
  }

  stats(): ActivityStats {
    return this.#open().stats();
  }

  /**
   * "Now" as the index's clock tells it (docs/semantics.md, "Time"): the default end
   * of Q2's window and the time presence (Q3) is judged at. -Infinity while the
   * 'stream' or 'watermark' clock has seen no event.
   */
  get now(): number {
    return this.#now(this.#open());
  }

  /** Forgets every event and returns the memory; options stay. */
  clear(): void {
    this.#open();
    if (this.#image !== null) this.#finishImage();
    this.#native!.clear();
    this.#watermark = -Infinity;
    this.#lead = -Infinity;
    this.#userKeys = [];
    this.#pageKeys = [];
    this.#userIds.clear();
    this.#pageIds.clear();
  }

  /** Releases the native engine. Any later call throws; closing twice is fine. */
  close(): void {
    if (this.#native === null) return;
    this.#native.close();
    this.#native = null;
    const image = this.#image;
    this.#image = null;
    image?.finished();
    this.#userKeys = [];
    this.#pageKeys = [];
    this.#userIds.clear();
    this.#pageIds.clear();
  }

  /** Debug: walks every native structure's invariants; throws an Error if one is broken. */
  validate(): void {
    this.#open().validate();
  }

  #open(): NativeActivityIndex {
    if (this.#native === null) throw closedError();
    return this.#native;
  }

  /** The wall clock (options.now, default Date.now). */
  #wall(): number {
    const wall = this.#wallClock();
    if (!Number.isSafeInteger(wall)) throw typeError('options.now()', 'a function returning ms since the epoch as a safe integer', wall);
    return wall;
  }

  /** Default "now" (see the getter). */
  #now(native: NativeActivityIndex): number {
    const clock = this.#options.clock;
    if (clock === 'wall') return this.#wall();
    const watermark = native.watermark();
    if (clock === 'watermark' || watermark === -Infinity) return watermark;
    // The log's time runs on with the wall clock: the wall clock minus the smallest lag
    // seen between an event and its arrival, never behind the watermark.
    return Math.min(Math.max(watermark, this.#wall() + this.#lead), MAX_SAFE_TIME);
  }

  /** The presence clock: -MAX_SAFE_TIME lets the engine use its watermark. */
  #presenceNow(native: NativeActivityIndex): number {
    // While a snapshot image is made the index must not change, and moving presence on
    // is a change: Q3 then answers as of the moment save() began (docs/api.md).
    if (this.#options.clock === 'watermark' || this.#image !== null) return -MAX_SAFE_TIME;
    const now = this.#now(native);
    return now === -Infinity ? -MAX_SAFE_TIME : now;
  }

  /** An accepted event at `time`, newer than the watermark, arrived at `wall`. */
  #moved(time: number, wall: number): void {
    this.#watermark = time;
    if (time - wall > this.#lead) this.#lead = time - wall;
  }

  /** The latest time an ingest call about to start accepts; remembers its arrival time. */
  #ingestMaxTs(): number {
    const wall = this.#wall();
    this.#feedWall = wall;
    return Math.min(wall + this.#options.maxFutureSkew, MAX_SAFE_TIME);
  }

  /** After an ingest call: follows the watermark its lines moved. */
  #ingestFed(): void {
    const native = this.#native;
    if (native === null) return;
    const watermark = native.watermark();
    if (watermark > this.#watermark) this.#moved(watermark, this.#feedWall);
  }

  #futureError(name: string, received: unknown, wall: number): ArgumentError {
    const skew = this.#options.maxFutureSkew;
    return rangeError(
      name,
      `at most the wall clock + maxFutureSkew (${new Date(wall).toISOString()} + ${skew} ms = ${wall + skew}); set maxFutureSkew for a log whose clock ran ahead`,
      received,
    );
  }

  #ensureCapacity(rows: number): void {
    if (rows <= this.#ids.length) return;
    const capacity = Math.max(rows, Math.min(2 * this.#ids.length, MAX_RESULT_ROWS));
    this.#ids = new Uint32Array(capacity);
    this.#times = new Float64Array(capacity);
    this.#keyLengths = new Uint32Array(capacity + 1);
    this.#native!.bindResults(this.#ids, this.#times, this.#keyLengths);
  }

  /**
   * Learns the id -> key pairs a native result brings (the keys new to JavaScript,
   * joined in row order; see native/activity-index-wrap.h) and returns its count.
   */
  #learn(keys: string[], result: NativeResult): number {
    if (typeof result === 'number') return result;
    const lengths = this.#keyLengths;
    const ids = this.#ids;
    const count = lengths[0]!;
    let text = typeof result === 'string' ? result : result[0]!;
    let chunk = 0;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = lengths[1 + i]!;
      if (length === 0) continue;
      if (offset === text.length) {
        text = (result as string[])[++chunk]!;
        offset = 0;
      }
      const id = ids[i]!;
      // Fill gaps so the array stays packed: a holey or sparse array is many times
      // slower to read, and this read is on every query's hot path.
      while (keys.length < id) keys.push('');
      keys[id] = text.slice(offset, (offset += length));
    }
    return count;
  }

  #userRows(result: NativeResult): UserView[] {
    const keys = this.#userKeys;
    const count = this.#learn(keys, result);
    const ids = this.#ids;
    const times = this.#times;
    const rows: UserView[] = new Array(count);
    for (let i = 0; i < count; i++) rows[i] = { user: keys[ids[i]!]!, ts: times[i]! };
    return rows;
  }

  #pageRows(result: NativeResult): PageView[] {
    const keys = this.#pageKeys;
    const count = this.#learn(keys, result);
    const ids = this.#ids;
    const times = this.#times;
    const rows: PageView[] = new Array(count);
    for (let i = 0; i < count; i++) rows[i] = { page: keys[ids[i]!]!, ts: times[i]! };
    return rows;
  }
}

/**
 * Loads a snapshot with what its sources stored (docs/persistence.md); see
 * ActivityIndex.load() for the rules.
 */
export async function loadSnapshot(file: string, options?: ActivityIndexOptions): Promise<LoadedSnapshot> {
  if (typeof file !== 'string' || file.length === 0) throw typeError('path', 'a non-empty string', file);
  const given = options === undefined ? {} : options;
  const resolvedGiven = resolveOptions(given); // validates the caller's options first
  const started = performance.now();
  const data = await readSnapshotFile(file);
  const header = inspectSnapshot(file, data);
  const stored = header.options;
  for (const key of Object.keys(given) as (keyof ResolvedOptions)[]) {
    if ((given as Record<string, unknown>)[key] === undefined) continue;
    const wanted = resolvedGiven[key];
    const saved = stored[key] === null ? Infinity : stored[key];
    if (key in stored && saved !== wanted) {
      throw new SnapshotError(
        'EOPTIONS',
        file,
        `options.${key} is ${String(wanted)} but the snapshot was saved with ${String(saved)}`,
      );
    }
  }
  const merged: Record<string, unknown> = { ...given };
  for (const [key, value] of Object.entries(stored)) {
    if (key in resolvedGiven) merged[key] = value === null ? Infinity : value;
  }
  let index: ActivityIndex;
  try {
    index = new ActivityIndex(merged as ActivityIndexOptions);
  } catch (error) {
    throw new SnapshotError('EOPTIONS', file, `the snapshot's options are not valid here: ${(error as Error).message}`);
  }
  try {
    await index.restoreFrom(file, data, header.lead);
  } catch (error) {
    index.close();
    throw error;
  }
  return { index, createdAt: header.createdAt, sources: header.sources, bytes: data.byteLength, durationMs: performance.now() - started };
}
