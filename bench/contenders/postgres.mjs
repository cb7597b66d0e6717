// Contender: PostgreSQL 15 through `pg` (one connection, queries one at a time).
// The server is a throwaway cluster from bench/servers/postgres.sh, default durability.
//
// Variants (options.variant):
//   naive — one `views` table of raw events, indexes (page, ts) and (usr, ts); every
//           answer is a GROUP BY over raw rows.
//   best  — max-semantics upserts into page_user and user_page (primary key on both
//           columns), current_page keyed by user for presence, indexes in rank order
//           (key, ts DESC, other key), a DELETE of expired rows every 100,000 events.
// Each batch is one transaction of multi-row INSERTs (at most 1,000 rows each); the
// client first reduces the batch to one row per key (see lib/sql-batch.mjs).
// Text columns are COLLATE "C": byte-wise order of UTF-8, as SPEC section 2 asks.

import pg from 'pg';
import { sqlBatchWriter, chunks } from '../lib/sql-batch.mjs';

const ROWS_PER_INSERT = 1000;

const NAIVE_SCHEMA = `
  CREATE TABLE views (usr text COLLATE "C" NOT NULL, page text COLLATE "C" NOT NULL, ts bigint NOT NULL);
  CREATE INDEX views_page_ts ON views (page, ts);
  CREATE INDEX views_usr_ts ON views (usr, ts);
`;

const BEST_SCHEMA = `
  CREATE TABLE page_user (page text COLLATE "C" NOT NULL, usr text COLLATE "C" NOT NULL, ts bigint NOT NULL, PRIMARY KEY (page, usr));
  CREATE INDEX page_user_rank ON page_user (page, ts DESC, usr);
  CREATE TABLE user_page (usr text COLLATE "C" NOT NULL, page text COLLATE "C" NOT NULL, ts bigint NOT NULL, PRIMARY KEY (usr, page));
  CREATE INDEX user_page_rank ON user_page (usr, ts DESC, page);
  CREATE TABLE current_page (usr text COLLATE "C" NOT NULL PRIMARY KEY, page text COLLATE "C" NOT NULL, ts bigint NOT NULL);
  CREATE INDEX current_page_rank ON current_page (page, ts DESC, usr);
`;

const NAIVE_ONLINE_CORE = `
  FROM (SELECT v.usr, MAX(v.ts) AS t FROM views v WHERE v.page = $1 AND v.ts >= $2 GROUP BY v.usr) c
  WHERE c.t <= $3 AND NOT EXISTS (
    SELECT 1 FROM views w WHERE w.usr = c.usr AND (w.ts > c.t OR (w.ts = c.t AND w.page < $1)))`;

/** "($1, $2, $3), ($4, $5, $6), …" for n rows of `width` columns. */
function placeholders(n, width) {
  const rows = new Array(n);
  for (let r = 0; r < n; r++) {
    const cols = new Array(width);
    for (let c = 0; c < width; c++) cols[c] = `$${r * width + c + 1}`;
    rows[r] = `(${cols.join(', ')})`;
  }
  return rows.join(', ');
}

export async function create(options) {
  const variant = options.variant ?? 'best';
  if (!['naive', 'best'].includes(variant)) throw new Error(`unknown postgres variant ${variant}`);
  const { host, port, user, database } = options.server ?? { host: '127.0.0.1', port: 54329, user: 'bench', database: 'postgres' };
  const client = new pg.Client({
    host, port, user, database,
    // bigint (int8, oid 20) as a JS number: every ts and count here is a safe integer.
    types: { getTypeParser: (oid, format) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format)) },
  });
  await client.connect();
  const schemaName = `bench_${variant}`;
  await client.query(`DROP SCHEMA IF EXISTS ${schemaName} CASCADE; CREATE SCHEMA ${schemaName}; SET search_path TO ${schemaName};`);
  await client.query(variant === 'naive' ? NAIVE_SCHEMA : BEST_SCHEMA);

  const userWindow = options.userWindowMs;
  const presenceWindow = options.presenceWindowMs;
  const expireEvery = 100_000;

  // Multi-row statements, prepared once per row count.
  const statementCache = new Map();
  function upsert(kind, n) {
    const id = `${kind}_${n}`;
    let s = statementCache.get(id);
    if (s) return s;
    const text = {
      views: `INSERT INTO views (usr, page, ts) VALUES ${placeholders(n, 3)}`,
      page_user: `INSERT INTO page_user (page, usr, ts) VALUES ${placeholders(n, 3)}
        ON CONFLICT (page, usr) DO UPDATE SET ts = EXCLUDED.ts WHERE EXCLUDED.ts > page_user.ts`,
      user_page: `INSERT INTO user_page (usr, page, ts) VALUES ${placeholders(n, 3)}
        ON CONFLICT (usr, page) DO UPDATE SET ts = EXCLUDED.ts WHERE EXCLUDED.ts > user_page.ts`,
      current_page: `INSERT INTO current_page (usr, page, ts) VALUES ${placeholders(n, 3)}
        ON CONFLICT (usr) DO UPDATE SET page = EXCLUDED.page, ts = EXCLUDED.ts
        WHERE EXCLUDED.ts > current_page.ts OR (EXCLUDED.ts = current_page.ts AND EXCLUDED.page < current_page.page)`,
    }[kind];
    // Only the common sizes get a named (server-side prepared) statement.
    s = n === ROWS_PER_INSERT || n === 100 ? { name: id, text } : { text };
    statementCache.set(id, s);
    return s;
  }

  async function insertRows(kind, rows) {
    for (const part of chunks(rows, ROWS_PER_INSERT)) {
      const values = new Array(part.length * 3);
      for (let i = 0; i < part.length; i++) {
        values[3 * i] = part[i][0];
        values[3 * i + 1] = part[i][1];
        values[3 * i + 2] = part[i][2];
      }
      await client.query({ ...upsert(kind, part.length), values });
    }
  }

  let q1;
  let q2;
  let q3;
  let q3count;
  if (variant === 'naive') {
    q1 = { name: 'q1', text: 'SELECT usr, MAX(ts) AS t FROM views WHERE page = $1 GROUP BY usr ORDER BY t DESC, usr LIMIT $2', rowMode: 'array' };
    q2 = { name: 'q2', text: 'SELECT page, MAX(ts) AS t FROM views WHERE usr = $1 AND ts >= $2 GROUP BY page HAVING MAX(ts) <= $3 ORDER BY t DESC, page LIMIT $4', rowMode: 'array' };
    q3 = { name: 'q3', text: `SELECT c.usr, c.t ${NAIVE_ONLINE_CORE} ORDER BY c.t DESC, c.usr LIMIT $4`, rowMode: 'array' };
    q3count = { name: 'q3count', text: `SELECT COUNT(*) ${NAIVE_ONLINE_CORE}`, rowMode: 'array' };
  } else {
    q1 = { name: 'q1', text: 'SELECT usr, ts FROM page_user WHERE page = $1 ORDER BY ts DESC, usr LIMIT $2', rowMode: 'array' };
    q2 = { name: 'q2', text: 'SELECT page, ts FROM user_page WHERE usr = $1 AND ts >= $2 AND ts <= $3 ORDER BY ts DESC, page LIMIT $4', rowMode: 'array' };
    q3 = { name: 'q3', text: 'SELECT usr, ts FROM current_page WHERE page = $1 AND ts >= $2 AND ts <= $3 ORDER BY ts DESC, usr LIMIT $4', rowMode: 'array' };
    q3count = { name: 'q3count', text: 'SELECT COUNT(*) FROM current_page WHERE page = $1 AND ts >= $2 AND ts <= $3', rowMode: 'array' };
  }

  const toRows = (rows, keyName) => rows.map((r) => ({ [keyName]: r[0], ts: r[1] }));

  const writer = sqlBatchWriter({
    variant, insertRows, begin: 'BEGIN', param: '$1', userWindow, presenceWindow, expireEvery,
    query: (sql, params) => client.query(sql, params),
  });

  return {
    name: `pg-${variant}`,
    sync: false,
    ingest: (batch) => writer.ingest(batch),
    async lastUsers(page, k) {
      return toRows((await client.query({ ...q1, values: [page, k] })).rows, 'user');
    },
    async userPages(user, { window = userWindow, now = writer.watermark, limit = null } = {}) {
      const lo = Math.max(now - window, writer.watermark - userWindow);
      return toRows((await client.query({ ...q2, values: [user, lo, now, Number.isFinite(limit) ? limit : null] })).rows, 'page');
    },
    async onlineUsers(page, k) {
      return toRows((await client.query({ ...q3, values: [page, writer.watermark - presenceWindow, writer.watermark, k] })).rows, 'user');
    },
    async onlineCount(page) {
      return (await client.query({ ...q3count, values: [page, writer.watermark - presenceWindow, writer.watermark] })).rows[0][0];
    },
    get watermark() { return writer.watermark; },
    async settings() {
      const get = async (sql) => (await client.query(sql)).rows[0];
      return {
        server: (await get('SHOW server_version')).server_version,
        fsync: (await get('SHOW fsync')).fsync,
        synchronousCommit: (await get('SHOW synchronous_commit')).synchronous_commit,
        sharedBuffers: (await get('SHOW shared_buffers')).shared_buffers,
        rowsPerInsert: ROWS_PER_INSERT,
        expireEvery: variant === 'best' ? expireEvery : null,
      };
    },
    async stats() {
      const r = await client.query(`SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`, [schemaName]);
      return { dbBytes: r.rows[0].bytes };
    },
    async close() {
      await client.end();
    },
  };
}
