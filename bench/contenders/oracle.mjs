// Contender: the obviously correct model, for checking the others on small workloads
// (`npm run bench -- --events 20000 --contenders oracle,purejs,...`). It keeps, per page
// and per user, every distinct key with its max ts, and computes each answer by sorting.
// Presence scans every user: O(users) per query. Never use it for timing.

import { compareKeys } from '../lib/keys.mjs';

const byRank = (a, b) => (b.ts - a.ts) || compareKeys(a.key, b.key);

export function create(options) {
  const userWindow = options.userWindowMs;
  const presenceWindow = options.presenceWindowMs;
  const pageUsers = new Map(); // page → Map user → max ts
  const userPages = new Map(); // user → Map page → max ts (user index: late events skip it)
  let watermark = -Infinity;

  const bump = (outer, a, b, t) => {
    let m = outer.get(a);
    if (!m) outer.set(a, (m = new Map()));
    const old = m.get(b);
    if (old === undefined || t > old) m.set(b, t);
  };

  function latestView(user) {
    let best = null;
    for (const [page, ts] of userPages.get(user)) {
      if (!best || ts > best.ts || (ts === best.ts && compareKeys(page, best.key) < 0)) best = { key: page, ts };
    }
    return best;
  }

  function online(page) {
    const lo = watermark - presenceWindow;
    const out = [];
    for (const user of userPages.keys()) {
      const v = latestView(user);
      if (v && v.key === page && v.ts >= lo && v.ts <= watermark) out.push({ key: user, ts: v.ts });
    }
    return out.sort(byRank);
  }

  return {
    name: 'oracle',
    sync: true,
    ingest(batch) {
      for (const { user, page, ts } of batch) {
        const late = ts < watermark - userWindow;
        if (ts > watermark) watermark = ts;
        bump(pageUsers, page, user, ts);
        if (!late) bump(userPages, user, page, ts);
      }
      return batch.length;
    },
    lastUsers(page, k) {
      const m = pageUsers.get(page);
      if (!m) return [];
      return [...m].map(([key, ts]) => ({ key, ts })).sort(byRank).slice(0, k).map((e) => ({ user: e.key, ts: e.ts }));
    },
    userPages(user, { window = userWindow, now = watermark, limit = Infinity } = {}) {
      const m = userPages.get(user);
      if (!m) return [];
      const lo = Math.max(now - window, watermark - userWindow);
      return [...m].filter(([, ts]) => ts >= lo && ts <= now).map(([key, ts]) => ({ key, ts }))
        .sort(byRank).slice(0, limit).map((e) => ({ page: e.key, ts: e.ts }));
    },
    onlineUsers(page, k) {
      return online(page).slice(0, k).map((e) => ({ user: e.key, ts: e.ts }));
    },
    onlineCount(page) {
      return online(page).length;
    },
    get watermark() { return watermark; },
    close() { pageUsers.clear(); userPages.clear(); },
  };
}
