// Contender: SQLite through better-sqlite3 (synchronous API, one transaction per batch).
//
// Variants (options.variant): `${storage}-${schema}`
//   storage  mem — ':memory:' database
//            wal — a file in options.tmpDir, journal_mode=WAL, better-sqlite3's default
//                  synchronous (it is built with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1, NORMAL)
//   schema   naive — one `views` table of raw events, indexes (page, ts) and (usr, ts);
//                    every answer is a GROUP BY over the raw rows.
//            best  — max-semantics UPSERTs into page_user and user_page (keyed by both
//                    columns), a current_page table keyed by user for presence, indexes
//                    that return rank order without a sort, and a periodic DELETE of
//                    rows older than the windows.
// All text columns use the BINARY collation (memcmp of UTF-8: SPEC's byte-wise order).

import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const NAIVE_SCHEMA = `
  CREATE TABLE views (usr TEXT NOT NULL COLLATE BINARY, page TEXT NOT NULL COLLATE BINARY, ts INTEGER NOT NULL);
  CREATE INDEX views_page_ts ON views (page, ts);
  CREATE INDEX views_usr_ts ON views (usr, ts);
`;

const BEST_SCHEMA = `
  CREATE TABLE page_user (page TEXT NOT NULL COLLATE BINARY, usr TEXT NOT NULL COLLATE BINARY, ts INTEGER NOT NULL,
                          PRIMARY KEY (page, usr)) WITHOUT ROWID;
  CREATE INDEX page_user_rank ON page_user (page, ts DESC, usr);
  CREATE TABLE user_page (usr TEXT NOT NULL COLLATE BINARY, page TEXT NOT NULL COLLATE BINARY, ts INTEGER NOT NULL,
                          PRIMARY KEY (usr, page)) WITHOUT ROWID;
  CREATE INDEX user_page_rank ON user_page (usr, ts DESC, page);
  CREATE TABLE current_page (usr TEXT NOT NULL COLLATE BINARY PRIMARY KEY, page TEXT NOT NULL COLLATE BINARY,
                             ts INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX current_page_rank ON current_page (page, ts DESC, usr);
`;

// Presence for the naive schema: the user's latest view (max ts, then smallest page)
// must be on this page; NOT EXISTS looks for a higher-ranked view via (usr, ts).
const NAIVE_ONLINE_CORE = `
  FROM (SELECT v.usr AS usr, MAX(v.ts) AS t FROM views v WHERE v.page = @page AND v.ts >= @lo GROUP BY v.usr) c
  WHERE c.t <= @now AND NOT EXISTS (
    SELECT 1 FROM views w WHERE w.usr = c.usr AND (w.ts > c.t OR (w.ts = c.t AND w.page < @page)))`;

export function create(options) {
  let Database;
  try {
    Database = require('better-sqlite3');
    new Database(':memory:').close();
  } catch (err) {
    throw new Error(`better-sqlite3 is not usable (${err.message.split('\n')[0]}). Its native part is built by its ` +
      `install script: run \`npm rebuild better-sqlite3\` (offline: npm_config_nodedir=/usr npm rebuild better-sqlite3)`);
  }
  const variant = options.variant ?? 'mem-best';
  const [storage, schema] = variant.split('-');
  if (!['mem', 'wal'].includes(storage) || !['naive', 'best'].includes(schema)) throw new Error(`unknown sqlite variant ${variant}`);

  const file = storage === 'mem' ? ':memory:' : path.join(options.tmpDir, `sqlite-${schema}.db`);
  const db = new Database(file);
  if (storage === 'wal') db.pragma('journal_mode = WAL');
  db.exec(schema === 'naive' ? NAIVE_SCHEMA : BEST_SCHEMA);

  const userWindow = options.userWindowMs;
  const presenceWindow = options.presenceWindowMs;
  const expireEvery = options.expireEvery ?? 100_000;
  let watermark = -Infinity;
  let sinceExpire = 0;

  let ingest;
  let q1;
  let q2;
  let q3;
  let q3count;
  if (schema === 'naive') {
    const insert = db.prepare('INSERT INTO views (usr, page, ts) VALUES (?, ?, ?)');
    ingest = db.transaction((batch) => {
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i];
        if (e.ts > watermark) watermark = e.ts;
        insert.run(e.user, e.page, e.ts);
      }
    });
    q1 = db.prepare('SELECT usr, MAX(ts) AS t FROM views WHERE page = ? GROUP BY usr ORDER BY t DESC, usr LIMIT ?').raw(true);
    // ts >= lo before grouping is safe: a page's max is >= lo iff one of its views is.
    q2 = db.prepare(`SELECT page, MAX(ts) AS t FROM views WHERE usr = @user AND ts >= @lo
                     GROUP BY page HAVING MAX(ts) <= @now ORDER BY t DESC, page LIMIT @limit`).raw(true);
    q3 = db.prepare(`SELECT c.usr, c.t ${NAIVE_ONLINE_CORE} ORDER BY c.t DESC, c.usr LIMIT @k`).raw(true);
    q3count = db.prepare(`SELECT COUNT(*) ${NAIVE_ONLINE_CORE}`).pluck(true);
  } else {
    const upPage = db.prepare(`INSERT INTO page_user (page, usr, ts) VALUES (?, ?, ?)
      ON CONFLICT (page, usr) DO UPDATE SET ts = excluded.ts WHERE excluded.ts > page_user.ts`);
    const upUser = db.prepare(`INSERT INTO user_page (usr, page, ts) VALUES (?, ?, ?)
      ON CONFLICT (usr, page) DO UPDATE SET ts = excluded.ts WHERE excluded.ts > user_page.ts`);
    const upCurrent = db.prepare(`INSERT INTO current_page (usr, page, ts) VALUES (?, ?, ?)
      ON CONFLICT (usr) DO UPDATE SET page = excluded.page, ts = excluded.ts
      WHERE excluded.ts > current_page.ts OR (excluded.ts = current_page.ts AND excluded.page < current_page.page)`);
    const expireUser = db.prepare('DELETE FROM user_page WHERE ts < ?');
    const expireCurrent = db.prepare('DELETE FROM current_page WHERE ts < ?');
    ingest = db.transaction((batch) => {
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i];
        const late = e.ts < watermark - userWindow; // SPEC 6: too old for the user index
        if (e.ts > watermark) watermark = e.ts;
        upPage.run(e.page, e.user, e.ts);
        if (!late) {
          upUser.run(e.user, e.page, e.ts);
          upCurrent.run(e.user, e.page, e.ts);
        }
      }
      sinceExpire += batch.length;
      if (sinceExpire >= expireEvery) {
        sinceExpire = 0;
        expireUser.run(watermark - userWindow);
        expireCurrent.run(watermark - presenceWindow);
      }
    });
    q1 = db.prepare('SELECT usr, ts FROM page_user WHERE page = ? ORDER BY ts DESC, usr LIMIT ?').raw(true);
    q2 = db.prepare(`SELECT page, ts FROM user_page WHERE usr = @user AND ts >= @lo AND ts <= @now
                     ORDER BY ts DESC, page LIMIT @limit`).raw(true);
    q3 = db.prepare(`SELECT usr, ts FROM current_page WHERE page = @page AND ts >= @lo AND ts <= @now
                     ORDER BY ts DESC, usr LIMIT @k`).raw(true);
    q3count = db.prepare('SELECT COUNT(*) FROM current_page WHERE page = @page AND ts >= @lo AND ts <= @now').pluck(true);
  }

  return {
    name: `sqlite-${variant}`,
    sync: true,
    ingest(batch) {
      ingest(batch);
      return batch.length;
    },
    lastUsers(page, k) {
      const rows = q1.all(page, k);
      const out = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = { user: rows[i][0], ts: rows[i][1] };
      return out;
    },
    userPages(user, { window = userWindow, now = watermark, limit = -1 } = {}) {
      const lo = Math.max(now - window, watermark - userWindow);
      const rows = q2.all({ user, lo, now, limit: Number.isFinite(limit) ? limit : -1 });
      const out = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = { page: rows[i][0], ts: rows[i][1] };
      return out;
    },
    onlineUsers(page, k) {
      const rows = q3.all({ page, lo: watermark - presenceWindow, now: watermark, k });
      const out = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = { user: rows[i][0], ts: rows[i][1] };
      return out;
    },
    onlineCount(page) {
      return q3count.get({ page, lo: watermark - presenceWindow, now: watermark });
    },
    get watermark() { return watermark; },
    settings() {
      return {
        sqliteVersion: db.prepare('SELECT sqlite_version()').pluck().get(),
        betterSqlite3: require('better-sqlite3/package.json').version,
        journalMode: db.pragma('journal_mode', { simple: true }),
        synchronous: db.pragma('synchronous', { simple: true }),
        cacheSize: db.pragma('cache_size', { simple: true }),
        expireEvery: schema === 'best' ? expireEvery : null,
      };
    },
    stats() {
      const pageSize = db.pragma('page_size', { simple: true });
      const pageCount = db.pragma('page_count', { simple: true });
      return { dbBytes: pageSize * pageCount };
    },
    close() {
      db.close();
    },
  };
}
