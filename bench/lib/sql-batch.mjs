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

/**
 * The ingest both SQL server contenders share: one transaction per batch; the naive
 * schema inserts every view, the best one upserts the batch reduced to one row per key
 * (reduceBatch) and deletes expired rows every `expireEvery` events. Driver specifics
 * come in as functions: query(sql, params) runs one statement, insertRows(table, rows)
 * one multi-row insert; `param` is the driver's first placeholder ('$1' or '?').
 * Returns { ingest(batch), watermark } where watermark is a getter.
 */
export function sqlBatchWriter({ variant, query, insertRows, begin, param, userWindow, presenceWindow, expireEvery }) {
  let watermark = -Infinity;
  let sinceExpire = 0;
  return {
    get watermark() { return watermark; },
    async ingest(batch) {
      await query(begin);
      if (variant === 'naive') {
        for (const e of batch) if (e.ts > watermark) watermark = e.ts;
        await insertRows('views', batch.map((e) => [e.user, e.page, e.ts]));
      } else {
        const r = reduceBatch(batch, watermark, userWindow);
        watermark = r.watermark;
        await insertRows('page_user', [...r.pageUser.values()]);
        await insertRows('user_page', [...r.userPage.values()]);
        await insertRows('current_page', [...r.current.values()]);
        sinceExpire += batch.length;
        if (sinceExpire >= expireEvery) {
          sinceExpire = 0;
          await query(`DELETE FROM user_page WHERE ts < ${param}`, [watermark - userWindow]);
          await query(`DELETE FROM current_page WHERE ts < ${param}`, [watermark - presenceWindow]);
        }
      }
      await query('COMMIT');
      return batch.length;
    },
  };
}
