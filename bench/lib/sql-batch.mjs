// Batch preparation shared by the client/server SQL contenders (PostgreSQL, MariaDB).
//
// A multi-row INSERT … ON CONFLICT DO UPDATE may not touch the same row twice in one
// statement (PostgreSQL raises "cannot affect row a second time"), so the client first
// reduces a batch to one row per key with the same max semantics the tables keep.
// It also applies SPEC section 6's "late" rule with a running watermark, in input order.

import { compareKeys } from './keys.mjs';

/**
 * Returns { watermark, views: [user, page, ts][] (every event), pageUser: Map,
 * userPage: Map, current: Map } for one batch, where
 *   pageUser  "page\0user" → [page, user, maxTs]           (every event)
 *   userPage  "user\0page" → [user, page, maxTs]           (events not late)
 *   current   user → [user, page, ts] highest-ranked view  (events not late)
 */
export function reduceBatch(batch, watermark, userWindowMs) {
  const pageUser = new Map();
  const userPage = new Map();
  const current = new Map();
  for (let i = 0; i < batch.length; i++) {
    const { user, page, ts } = batch[i];
    const late = ts < watermark - userWindowMs;
    if (ts > watermark) watermark = ts;
    const pk = page + '\0' + user;
    const p = pageUser.get(pk);
    if (p === undefined) pageUser.set(pk, [page, user, ts]); else if (ts > p[2]) p[2] = ts;
    if (late) continue;
    const uk = user + '\0' + page;
    const u = userPage.get(uk);
    if (u === undefined) userPage.set(uk, [user, page, ts]); else if (ts > u[2]) u[2] = ts;
    const c = current.get(user);
    if (c === undefined) current.set(user, [user, page, ts]);
    else if (ts > c[2] || (ts === c[2] && compareKeys(page, c[1]) < 0)) { c[1] = page; c[2] = ts; }
  }
  return { watermark, pageUser, userPage, current };
}

/** Splits an array into chunks of at most n. */
export function chunks(array, n) {
  const out = [];
  for (let i = 0; i < array.length; i += n) out.push(array.slice(i, i + n));
  return out;
}
