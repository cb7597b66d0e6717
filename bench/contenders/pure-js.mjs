// Contender: pure JavaScript — what a careful Node developer would write without a
// native engine. Same semantics as skiptrail (SPEC sections 2–4b, docs/semantics.md):
//
//   pages:  Map page → bounded list of its top `usersPerPage` users, kept sorted by
//           rank (ts desc, key byte-wise asc) in two parallel arrays; max semantics.
//   users:  Map user → { pageTs: Map page → ts, list: BlockRankList of (ts, page) in
//           ascending rank (the newest last, so the common write is an append) },
//           at most `pagesPerUser` entries, entries older than watermark - userWindow
//           trimmed from the front when the user is written.
//   online: Map page → BlockRankList of the users whose latest view is on that page; a
//           user moves between pages when their latest view changes.
// BlockRankList (lib/block-rank-list.mjs) is a sorted list of small blocks: a plain
// sorted array was 3× slower here, its splices in the middle of a hot page's
// thousands of present users dominating.
//
// Everything is synchronous; the runner calls it without await.

import { BlockRankList, rankCmp } from '../lib/block-rank-list.mjs';
import { parseCombinedBuffer, viewRules } from '../lib/clf-parse.mjs';
import { loadSkiptrail } from './skiptrail.mjs';

// skiptrail's default page-view rules, so that both log parsers count the same lines
// (without a built skiptrail the JS parser counts every request: there is nothing to
// compare it with then).
const skiptrailDefaults = loadSkiptrail().defaults;
const rules = skiptrailDefaults ? viewRules(skiptrailDefaults) : undefined;

export function create(options) {
  const usersPerPage = options.usersPerPage;
  const pagesPerUser = options.pagesPerUser;
  const userWindow = options.userWindowMs;
  const presenceWindow = options.presenceWindowMs;

  /** page → { users: string[], ts: number[] } in rank order (best first), length <= usersPerPage. */
  const pages = new Map();
  /** user → { pageTs: Map<string, number>, list: BlockRankList } */
  const users = new Map();
  /** page → BlockRankList of users whose latest view is on that page. */
  const online = new Map();
  let watermark = -Infinity;
  let entries = 0;

  function updatePage(page, user, t) {
    let p = pages.get(page);
    if (p === undefined) {
      p = { users: [user], ts: [t] };
      pages.set(page, p);
      entries++;
      return;
    }
    const us = p.users;
    const ts = p.ts;
    let n = us.length;
    let at = us.indexOf(user);
    if (at >= 0) {
      if (t <= ts[at]) return; // max semantics
      us.splice(at, 1); ts.splice(at, 1);
      n--;
      entries--;
    } else if (n >= usersPerPage && rankCmp(t, user, ts[n - 1], us[n - 1]) < 0) {
      return; // would not make the top
    }
    // Insert in rank order (best first): linear scan over at most usersPerPage entries.
    let i = 0;
    while (i < n && rankCmp(ts[i], us[i], t, user) > 0) i++;
    us.splice(i, 0, user); ts.splice(i, 0, t);
    entries++;
    if (us.length > usersPerPage) { us.pop(); ts.pop(); entries--; }
  }

  function updateUser(user, page, t) {
    let u = users.get(user);
    if (u === undefined) {
      u = { pageTs: new Map(), list: new BlockRankList() };
      users.set(user, u);
    }
    const list = u.list;
    const prevPage = list.lastKey();
    const prevTs = list.lastTs();

    const pageTs = u.pageTs;
    const old = pageTs.get(page);
    if (old !== undefined) {
      if (t <= old) return; // max semantics; the latest view cannot change either
      list.remove(old, page);
      entries--;
    }
    pageTs.set(page, t);
    list.insert(t, page);
    entries++;
    // Trim expired entries, then the lowest-ranked beyond the cap.
    const minTs = watermark - userWindow;
    if (list.firstTs() < minTs) {
      const before = list.size;
      list.trimBefore(minTs, (p) => pageTs.delete(p));
      entries -= before - list.size;
    }
    while (list.size > pagesPerUser) {
      pageTs.delete(list.removeFirst());
      entries--;
    }

    // Presence: did the user's latest view change?
    const curPage = list.lastKey();
    const curTs = list.lastTs();
    if (curPage === prevPage && curTs === prevTs) return;
    if (prevPage !== undefined) {
      const o = online.get(prevPage);
      if (o !== undefined && o.remove(prevTs, user) && o.size === 0) online.delete(prevPage);
    }
    let o = online.get(curPage);
    if (o === undefined) { o = new BlockRankList(); online.set(curPage, o); }
    o.insert(curTs, user);
    // Trim users whose presence expired, while we are here.
    const presenceMin = watermark - presenceWindow;
    if (o.firstTs() < presenceMin) o.trimBefore(presenceMin);
  }

  function record(user, page, t) {
    const late = t < watermark - userWindow;
    if (t > watermark) watermark = t;
    updatePage(page, user, t);
    if (!late) updateUser(user, page, t);
  }

  return {
    name: 'purejs',
    sync: true,
    ingest(batch) {
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i];
        record(e.user, e.page, e.ts);
      }
      return batch.length;
    },
    /** Combined log lines (whole lines), parsed in JS: lib/clf-parse.mjs. */
    ingestLog(buffer) {
      return parseCombinedBuffer(buffer, record, rules);
    },
    lastUsers(page, k) {
      const p = pages.get(page);
      if (p === undefined) return [];
      const n = Math.min(k, p.users.length);
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = { user: p.users[i], ts: p.ts[i] };
      return out;
    },
    userPages(user, { window = userWindow, now = watermark, limit = Infinity } = {}) {
      const u = users.get(user);
      if (u === undefined) return [];
      const lo = Math.max(now - window, watermark - userWindow);
      return u.list.top(limit, lo, now, 'page');
    },
    onlineUsers(page, k) {
      const o = online.get(page);
      if (o === undefined) return [];
      return o.top(k, watermark - presenceWindow, watermark, 'user');
    },
    onlineCount(page) {
      const o = online.get(page);
      if (o === undefined) return 0;
      return o.countAtLeast(watermark - presenceWindow);
    },
    get watermark() { return watermark; },
    stats() {
      return { pages: pages.size, users: users.size, entries };
    },
    close() {
      pages.clear(); users.clear(); online.clear();
    },
  };
}
