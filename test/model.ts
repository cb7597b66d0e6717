/**
 * A reference model of skiptrail: SPEC.md sections 1–4b and 6, and the decisions in
 * docs/semantics.md. It is written to be obviously correct, not fast: plain Maps, a
 * sort per query, a scan to find an eviction victim or a list's best or lowest entry,
 * and eager expiry after every event. Property tests run the native engine and this model side by side and
 * require equal answers.
 *
 * Where the engine is free to differ (lazy versus eager trimming of expired entries),
 * the differences cannot be seen in query answers: expired entries always rank below
 * every unexpired one, so an expired entry that still occupies a `usersPerPage` or
 * `pagesPerUser` slot is displaced by any unexpired newcomer, and a correct engine
 * never holds more than `maxPages` pages or `maxUsers` users. They can be seen in some
 * `stats()` counts: `unambiguousStats()` says which counts the model can vouch for.
 *
 * The model takes plain milliseconds (no duration strings, no Dates) and checks no
 * input: callers pass valid events.
 */

import { DEFAULT_MAX_PAGES, DEFAULT_MAX_USERS } from '../src/validate.js';

export interface ViewEvent {
  readonly user: string;
  readonly page: string;
  readonly ts: number;
}

export interface UserEntry {
  user: string;
  ts: number;
}

export interface PageEntry {
  page: string;
  ts: number;
}

export interface ModelOptions {
  /** Page index: users kept per page (SPEC 3). Default 30. */
  usersPerPage?: number;
  /** User index: pages kept per user (SPEC 4). Default 1000. */
  pagesPerUser?: number;
  /** ms; user entries older than `watermark - userWindow` are expired. Default 30 minutes. */
  userWindow?: number;
  /** ms; page entries older than `watermark - pageWindow` are expired. Default none. */
  pageWindow?: number;
  /** ms; default (and maximum) `userWindow`. */
  presenceWindow?: number;
  /** Default unlimited. */
  maxPages?: number;
  /** Default unlimited. */
  maxUsers?: number;
}

export interface ModelStats {
  events: number;
  pages: number;
  users: number;
  entries: number;
  late: number;
  evicted: number;
  online: number;
  watermark: number;
}

export interface UserPagesQuery {
  /** ms; default `userWindow`. */
  window?: number;
  /** ms; default the watermark. */
  now?: number;
  /** default: all. */
  limit?: number;
}

/** UTF-8 encodings of recent keys: the long-list properties compare a few hundred keys millions of times. */
const utf8Cache = new Map<string, Buffer>();

function utf8(key: string): Buffer {
  let bytes = utf8Cache.get(key);
  if (bytes === undefined) {
    if (utf8Cache.size >= 100_000) utf8Cache.clear();
    utf8Cache.set(key, (bytes = Buffer.from(key, 'utf8')));
  }
  return bytes;
}

/** Byte-wise order of the UTF-8 encodings, like `Buffer.compare` (SPEC 1). */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(utf8(a), utf8(b));
}

/**
 * SPEC 2: negative when `a` ranks above `b` ("most recent first"): larger ts, and on
 * equal ts the byte-wise smaller key.
 */
export function compareRank(a: { key: string; ts: number }, b: { key: string; ts: number }): number {
  if (a.ts > b.ts) return -1;
  if (a.ts < b.ts) return 1;
  return compareKeys(a.key, b.key);
}

/** The entries of `list` (key → ts), best-ranked first. */
function ranked(list: ReadonlyMap<string, number>): { key: string; ts: number }[] {
  return [...list].map(([key, ts]) => ({ key, ts })).sort(compareRank);
}

/** The best-ranked entry of a non-empty list. */
function first(list: ReadonlyMap<string, number>): { key: string; ts: number } {
  let best: { key: string; ts: number } | undefined;
  for (const [key, ts] of list) if (best === undefined || compareRank({ key, ts }, best) < 0) best = { key, ts };
  return best!;
}

/** The lowest-ranked entry of a non-empty list. */
function last(list: ReadonlyMap<string, number>): { key: string; ts: number } {
  let lowest: { key: string; ts: number } | undefined;
  for (const [key, ts] of list) if (lowest === undefined || compareRank({ key, ts }, lowest) > 0) lowest = { key, ts };
  return lowest!;
}

/**
 * Top-k keeping with max semantics (semantics.md, Q1 and Q2): a key already kept takes
 * the max of its times; a key not kept enters while there is room, or when it ranks
 * above the lowest kept entry, which is then dropped. Otherwise the event is dropped.
 */
function keepTop(list: Map<string, number>, key: string, ts: number, capacity: number): void {
  const held = list.get(key);
  if (held !== undefined) {
    list.set(key, Math.max(held, ts));
    return;
  }
  if (list.size < capacity) {
    list.set(key, ts);
    return;
  }
  const lowest = last(list);
  if (compareRank({ key, ts }, lowest) < 0) {
    list.delete(lowest.key);
    list.set(key, ts);
  }
}

/** Removes entries with `ts < cutoff`, and lists left empty. */
function dropExpired(lists: Map<string, Map<string, number>>, cutoff: number): void {
  for (const [owner, list] of lists) {
    for (const [key, ts] of list) if (ts < cutoff) list.delete(key);
    if (list.size === 0) lists.delete(owner);
  }
}

/**
 * SPEC 6: while more than `cap` lists are held, the one whose latest entry ranks lowest
 * (smallest ts, on equal ts the byte-wise largest owner key) is evicted whole.
 * Returns how many were evicted.
 */
function evictOverCap(lists: Map<string, Map<string, number>>, cap: number): number {
  let evicted = 0;
  while (lists.size > cap) {
    let victim: { key: string; ts: number } | undefined;
    for (const [owner, list] of lists) {
      const latest = { key: owner, ts: first(list).ts };
      if (victim === undefined || compareRank(latest, victim) > 0) victim = latest;
    }
    lists.delete(victim!.key);
    evicted++;
  }
  return evicted;
}

export class ActivityModel {
  readonly usersPerPage: number;
  readonly pagesPerUser: number;
  readonly userWindow: number;
  readonly pageWindow: number | undefined;
  readonly presenceWindow: number;
  readonly maxPages: number;
  readonly maxUsers: number;

  /** The largest accepted ts, or -Infinity before any event (SPEC 6). */
  watermark = -Infinity;

  /** Q1 state: page → (user → latest ts), at most `usersPerPage` users each. */
  private readonly pages = new Map<string, Map<string, number>>();
  /** Q2 and Q3 state: user → (page → latest ts), at most `pagesPerUser` pages each. */
  private readonly users = new Map<string, Map<string, number>>();

  private events = 0;
  private late = 0;
  private evicted = 0;
  /** Smallest ts accepted so far: tells whether anything has ever expired. */
  private minTs = Infinity;

  constructor(options: ModelOptions = {}) {
    this.usersPerPage = options.usersPerPage ?? 30;
    this.pagesPerUser = options.pagesPerUser ?? 1000;
    this.userWindow = options.userWindow ?? 30 * 60_000;
    this.pageWindow = options.pageWindow;
    this.presenceWindow = options.presenceWindow ?? this.userWindow;
    this.maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    this.maxUsers = options.maxUsers ?? DEFAULT_MAX_USERS;
  }

  /** User entries with `ts` below this are expired (SPEC 6). */
  userCutoff(): number {
    return this.watermark - this.userWindow;
  }

  /** Page entries with `ts` below this are expired (SPEC 3). */
  pageCutoff(): number {
    return this.pageWindow === undefined ? -Infinity : this.watermark - this.pageWindow;
  }

  /** One event, in input order: the watermark moves event by event (semantics.md). */
  record(event: ViewEvent): void {
    const { user, page, ts } = event;
    const late = ts < this.userCutoff();
    this.events++;
    if (late) this.late++;
    this.watermark = Math.max(this.watermark, ts);
    this.minTs = Math.min(this.minTs, ts);

    dropExpired(this.users, this.userCutoff());
    dropExpired(this.pages, this.pageCutoff());

    // Page index: every event, late or not (SPEC 6). An entry already past pageWindow
    // would be expired on arrival and could never be returned.
    if (ts >= this.pageCutoff()) {
      keepTop(this.listOf(this.pages, page), user, ts, this.usersPerPage);
      this.evicted += evictOverCap(this.pages, this.maxPages);
    }
    // User index: skipped by late events.
    if (!late) {
      keepTop(this.listOf(this.users, user), page, ts, this.pagesPerUser);
      this.evicted += evictOverCap(this.users, this.maxUsers);
    }
  }

  private listOf(lists: Map<string, Map<string, number>>, owner: string): Map<string, number> {
    let list = lists.get(owner);
    if (list === undefined) lists.set(owner, (list = new Map()));
    return list;
  }

  recordMany(events: Iterable<ViewEvent>): number {
    let count = 0;
    for (const event of events) {
      this.record(event);
      count++;
    }
    return count;
  }

  /** Q1 (SPEC 3). `k` is not checked. */
  lastUsers(page: string, k = 30): UserEntry[] {
    const cutoff = this.pageCutoff();
    return ranked(this.pages.get(page) ?? new Map())
      .filter((entry) => entry.ts >= cutoff)
      .slice(0, k)
      .map(({ key, ts }) => ({ user: key, ts }));
  }

  /** Q2 (SPEC 4, semantics.md): `max(now - window, watermark - userWindow) <= ts <= now`. */
  userPages(user: string, query: UserPagesQuery = {}): PageEntry[] {
    const window = query.window ?? this.userWindow;
    const now = query.now ?? this.watermark;
    const limit = query.limit ?? Infinity;
    const from = Math.max(now - window, this.userCutoff());
    return ranked(this.users.get(user) ?? new Map())
      .filter((entry) => entry.ts >= from && entry.ts <= now)
      .slice(0, limit)
      .map(({ key, ts }) => ({ page: key, ts }));
  }

  /**
   * Q3 (SPEC 4b): every online user with the page of their latest view (their
   * best-ranked user-index entry), best-ranked first. Online while
   * `ts >= watermark - presenceWindow`.
   */
  private online(): { user: string; page: string; ts: number }[] {
    const presenceCutoff = this.watermark - this.presenceWindow;
    const online: { user: string; page: string; ts: number }[] = [];
    for (const [user, list] of this.users) {
      const latest = first(list);
      if (latest.ts >= presenceCutoff) {
        online.push({ user, page: latest.key, ts: latest.ts });
      }
    }
    return online.sort((a, b) => compareRank({ key: a.user, ts: a.ts }, { key: b.user, ts: b.ts }));
  }

  onlineUsers(page: string, k = 30): UserEntry[] {
    return this.online()
      .filter((entry) => entry.page === page)
      .slice(0, k)
      .map(({ user, ts }) => ({ user, ts }));
  }

  onlineCount(page?: string): number {
    const online = this.online();
    return page === undefined ? online.length : online.filter((entry) => entry.page === page).length;
  }

  stats(): ModelStats {
    let entries = 0;
    for (const list of this.pages.values()) entries += list.size;
    for (const list of this.users.values()) entries += list.size;
    return {
      events: this.events,
      pages: this.pages.size,
      users: this.users.size,
      entries,
      late: this.late,
      evicted: this.evicted,
      online: this.onlineCount(),
      watermark: this.watermark,
    };
  }

  /**
   * The `stats()` fields whose values the model can vouch for so far.
   *
   * - `events`, `late`, `online`, `watermark`: always.
   * - `users`: while no user entry has ever expired (an engine may drop expired users
   *   lazily). `pages`: likewise for page entries (only with `pageWindow`).
   *   `entries`: while neither has happened.
   * - `evicted`: unless a cap and expiry on the same side have both been in play: an
   *   engine that drops expired users lazily may count an expired user as evicted by
   *   `maxUsers` where the model had already dropped it (and likewise for pages).
   *
   * Once a field is ambiguous it stays so: a lazy engine may hold stale entries
   * indefinitely, and an eviction count, once different, never converges.
   */
  unambiguousStats(): (keyof ModelStats)[] {
    const userExpiry = this.minTs < this.userCutoff();
    const pageExpiry = this.minTs < this.pageCutoff();
    const fields: (keyof ModelStats)[] = ['events', 'late', 'online', 'watermark'];
    if (!userExpiry) fields.push('users');
    if (!pageExpiry) fields.push('pages');
    if (!userExpiry && !pageExpiry) fields.push('entries');
    const evictedAmbiguous =
      (userExpiry && this.maxUsers !== Infinity) || (pageExpiry && this.maxPages !== Infinity);
    if (!evictedAmbiguous) fields.push('evicted');
    return fields;
  }

  /** Every page and user with a kept entry (expired or not), for walking the state. */
  knownKeys(): { pages: string[]; users: string[] } {
    return { pages: [...this.pages.keys()], users: [...this.users.keys()] };
  }
}
