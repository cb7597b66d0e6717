// Contender: MariaDB (InnoDB) through `mysql2/promise` (one connection, one query at a time).
// The server is a throwaway instance from bench/servers/mariadb.sh with its defaults
// (innodb_flush_log_at_trx_commit = 1: the log is flushed at every commit).
//
// Variants (options.variant):
//   naive — one `views` table of raw events, indexes (page, ts) and (usr, ts).
//   best  — max-semantics INSERT … ON DUPLICATE KEY UPDATE into page_user and user_page
//           (primary key on both columns), current_page keyed by user for presence,
//           indexes in rank order (key, ts DESC, other key), a DELETE of expired rows
//           every 100,000 events.
// Each batch is one transaction of multi-row INSERTs (at most 1,000 rows), reduced on
// the client to one row per key first (lib/sql-batch.mjs). Queries use server-side
// prepared statements (execute).
//
// Collation: utf8mb4_nopad_bin — binary code-point order, which is UTF-8 byte order, and
// unlike utf8mb4_bin (a PAD SPACE collation) it does not treat 'a' and 'a ' as equal.
// Keys are VARCHAR(255) so that two of them fit in an InnoDB index (3072 bytes); the
// workload's keys are far shorter.

import mysql from 'mysql2/promise';
import { sqlBatchWriter, chunks } from '../lib/sql-batch.mjs';

const ROWS_PER_INSERT = 1000;
const KEY = 'VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL';

const NAIVE_SCHEMA = [
  `CREATE TABLE views (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, usr ${KEY}, page ${KEY}, ts BIGINT NOT NULL,
     KEY views_page_ts (page, ts), KEY views_usr_ts (usr, ts)) ENGINE=InnoDB`,
];

const BEST_SCHEMA = [
  `CREATE TABLE page_user (page ${KEY}, usr ${KEY}, ts BIGINT NOT NULL, PRIMARY KEY (page, usr),
     KEY page_user_rank (page, ts DESC, usr)) ENGINE=InnoDB`,
  `CREATE TABLE user_page (usr ${KEY}, page ${KEY}, ts BIGINT NOT NULL, PRIMARY KEY (usr, page),
     KEY user_page_rank (usr, ts DESC, page)) ENGINE=InnoDB`,
  `CREATE TABLE current_page (usr ${KEY} PRIMARY KEY, page ${KEY}, ts BIGINT NOT NULL,
     KEY current_page_rank (page, ts DESC, usr)) ENGINE=InnoDB`,
];

const NAIVE_ONLINE_CORE = `
  FROM (SELECT v.usr, MAX(v.ts) AS t FROM views v WHERE v.page = ? AND v.ts >= ? GROUP BY v.usr) c
  WHERE c.t <= ? AND NOT EXISTS (
    SELECT 1 FROM views w WHERE w.usr = c.usr AND (w.ts > c.t OR (w.ts = c.t AND w.page < ?)))`;

const INSERTS = {
  views: 'INSERT INTO views (usr, page, ts) VALUES ?',
  page_user: 'INSERT INTO page_user (page, usr, ts) VALUES ? ON DUPLICATE KEY UPDATE ts = GREATEST(ts, VALUES(ts))',
  user_page: 'INSERT INTO user_page (usr, page, ts) VALUES ? ON DUPLICATE KEY UPDATE ts = GREATEST(ts, VALUES(ts))',
  // Assignments run left to right: `page` is decided with the old ts, then ts moves.
  current_page: `INSERT INTO current_page (usr, page, ts) VALUES ?
    ON DUPLICATE KEY UPDATE page = IF(VALUES(ts) > ts OR (VALUES(ts) = ts AND VALUES(page) < page), VALUES(page), page),
                            ts = GREATEST(ts, VALUES(ts))`,
};

export async function create(options) {
  const variant = options.variant ?? 'best';
  if (!['naive', 'best'].includes(variant)) throw new Error(`unknown mariadb variant ${variant}`);
  const { host, port, user, database } = options.server ?? { host: '127.0.0.1', port: 33069, user: 'bench', database: 'bench' };
  const conn = await mysql.createConnection({ host, port, user, database, charset: 'UTF8MB4_BIN', supportBigNumbers: true, bigNumberStrings: false });
  for (const t of ['views', 'page_user', 'user_page', 'current_page']) await conn.query(`DROP TABLE IF EXISTS ${t}`);
  for (const sql of variant === 'naive' ? NAIVE_SCHEMA : BEST_SCHEMA) await conn.query(sql);

  const userWindow = options.userWindowMs;
  const presenceWindow = options.presenceWindowMs;
  const expireEvery = 100_000;

  async function insertRows(kind, rows) {
    for (const part of chunks(rows, ROWS_PER_INSERT)) await conn.query(INSERTS[kind], [part]);
  }

  // LIMIT takes an integer literal (validated here), which keeps the statements
  // preparable on every server version.
  const lim = (k) => (Number.isInteger(k) && k > 0 ? k : 18446744073709551615n);
  let q1;
  let q2;
  let q3;
  let q3count;
  if (variant === 'naive') {
    q1 = (page, k) => conn.execute(`SELECT usr, MAX(ts) AS t FROM views WHERE page = ? GROUP BY usr ORDER BY t DESC, usr LIMIT ${lim(k)}`, [page]);
    q2 = (u, lo, now, k) => conn.execute(`SELECT page, MAX(ts) AS t FROM views WHERE usr = ? AND ts >= ? GROUP BY page HAVING MAX(ts) <= ? ORDER BY t DESC, page LIMIT ${lim(k)}`, [u, lo, now]);
    q3 = (page, lo, now, k) => conn.execute(`SELECT c.usr, c.t ${NAIVE_ONLINE_CORE} ORDER BY c.t DESC, c.usr LIMIT ${lim(k)}`, [page, lo, now, page]);
    q3count = (page, lo, now) => conn.execute(`SELECT COUNT(*) ${NAIVE_ONLINE_CORE}`, [page, lo, now, page]);
  } else {
    q1 = (page, k) => conn.execute(`SELECT usr, ts FROM page_user WHERE page = ? ORDER BY ts DESC, usr LIMIT ${lim(k)}`, [page]);
    q2 = (u, lo, now, k) => conn.execute(`SELECT page, ts FROM user_page WHERE usr = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC, page LIMIT ${lim(k)}`, [u, lo, now]);
    q3 = (page, lo, now, k) => conn.execute(`SELECT usr, ts FROM current_page WHERE page = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC, usr LIMIT ${lim(k)}`, [page, lo, now]);
    q3count = (page, lo, now) => conn.execute('SELECT COUNT(*) FROM current_page WHERE page = ? AND ts >= ? AND ts <= ?', [page, lo, now]);
  }

  const toRows = ([rows, fields], keyName) => {
    const a = fields[0].name;
    const b = fields[1].name;
    return rows.map((r) => ({ [keyName]: r[a], ts: Number(r[b]) }));
  };

  const writer = sqlBatchWriter({
    variant, insertRows, begin: 'START TRANSACTION', param: '?', userWindow, presenceWindow, expireEvery,
    query: (sql, params) => conn.query(sql, params),
  });

  return {
    name: `mariadb-${variant}`,
    sync: false,
    ingest: (batch) => writer.ingest(batch),
    async lastUsers(page, k) {
      return toRows(await q1(page, k), 'user');
    },
    async userPages(user, { window = userWindow, now = writer.watermark, limit = null } = {}) {
      const lo = Math.max(now - window, writer.watermark - userWindow);
      return toRows(await q2(user, lo, now, limit), 'page');
    },
    async onlineUsers(page, k) {
      return toRows(await q3(page, writer.watermark - presenceWindow, writer.watermark, k), 'user');
    },
    async onlineCount(page) {
      const [rows] = await q3count(page, writer.watermark - presenceWindow, writer.watermark);
      return Number(Object.values(rows[0])[0]);
    },
    get watermark() { return writer.watermark; },
    async settings() {
      const [[v]] = await conn.query('SELECT VERSION() AS v, @@innodb_flush_log_at_trx_commit AS flush, @@innodb_buffer_pool_size AS pool, @@log_bin AS binlog');
      return {
        server: v.v, innodbFlushLogAtTrxCommit: Number(v.flush), innodbBufferPoolBytes: Number(v.pool), logBin: Number(v.binlog),
        collation: 'utf8mb4_nopad_bin', rowsPerInsert: ROWS_PER_INSERT, expireEvery: variant === 'best' ? expireEvery : null,
      };
    },
    async stats() {
      // information_schema sizes are InnoDB's sampled statistics: refresh them first.
      for (const t of variant === 'naive' ? ['views'] : ['page_user', 'user_page', 'current_page']) await conn.query(`ANALYZE TABLE ${t}`);
      const [[r]] = await conn.query(`SELECT COALESCE(SUM(data_length + index_length), 0) AS bytes FROM information_schema.tables WHERE table_schema = DATABASE()`);
      return { dbBytes: Number(r.bytes) };
    },
    async close() {
      await conn.end();
    },
  };
}
