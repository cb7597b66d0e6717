// The contenders, by name. Every module exports create(options) returning an object with
//
//   ingest(batch)                         batch: [{ user, page, ts }]; returns its length
//   lastUsers(page, k)                    → [{ user, ts }]   (Q1, SPEC section 3)
//   userPages(user, { window, now, limit }) → [{ page, ts }] (Q2, section 4)
//   onlineUsers(page, k)                  → [{ user, ts }]   (Q3, section 4b)
//   onlineCount(page)                     → number
//   close()
//
// plus `sync: true` when every method returns a value rather than a promise (the runner
// then calls it without await), and optional settings() / stats() for the result file.
// create() may be async (server contenders connect there).
//
// `log: true` marks the contenders that can also be fed combined log lines
// (ingestLog(buffer) → { accepted }): skiptrail's native parser and the pure-JS one.
// `server` names the script in bench/servers/ that must be running; `group` says which
// runs include it by default: 'embedded' (npm run bench), 'server' (npm run bench -- --all),
// 'check' (only when named with --contenders). `queryEvery: n` makes the runner ask only
// every n-th sampled query (and query after every n-th mixed batch) of the naive schemas,
// whose queries are scans: their per-query figures stay honest, the run stays within
// 30 minutes, and their answers are still compared on the queries they were asked.

export const CONTENDERS = {
  skiptrail: { module: './skiptrail.mjs', group: 'embedded', log: true, label: 'skiptrail (recordMany)' },
  purejs: { module: './pure-js.mjs', group: 'embedded', log: true, label: 'pure JS (Maps + sorted block lists)' },
  'sqlite-mem-best': { module: './sqlite.mjs', variant: 'mem-best', group: 'embedded', label: 'SQLite :memory:, best schema' },
  'sqlite-mem-naive': { module: './sqlite.mjs', variant: 'mem-naive', queryEvery: 10, group: 'embedded', label: 'SQLite :memory:, naive schema' },
  'sqlite-wal-best': { module: './sqlite.mjs', variant: 'wal-best', group: 'embedded', label: 'SQLite WAL file, best schema' },
  'sqlite-wal-naive': { module: './sqlite.mjs', variant: 'wal-naive', queryEvery: 10, group: 'embedded', label: 'SQLite WAL file, naive schema' },
  'pg-best': { module: './postgres.mjs', variant: 'best', server: 'postgres', group: 'server', label: 'PostgreSQL, best schema' },
  'pg-naive': { module: './postgres.mjs', variant: 'naive', server: 'postgres', queryEvery: 10, group: 'server', label: 'PostgreSQL, naive schema' },
  'mariadb-best': { module: './mariadb.mjs', variant: 'best', server: 'mariadb', group: 'server', label: 'MariaDB, best schema' },
  'mariadb-naive': { module: './mariadb.mjs', variant: 'naive', server: 'mariadb', queryEvery: 10, group: 'server', label: 'MariaDB, naive schema' },
  redis: { module: './redis.mjs', variant: 'pipeline', server: 'redis', group: 'server', label: 'Redis ZSETs, pipelined commands' },
  'redis-lua': { module: './redis.mjs', variant: 'lua', server: 'redis', group: 'server', label: 'Redis ZSETs, one Lua script per batch' },
  oracle: { module: './oracle.mjs', group: 'check', label: 'brute-force model (checks only)' },
};

export async function loadContender(name) {
  const spec = CONTENDERS[name];
  if (!spec) throw new Error(`unknown contender ${name}; known: ${Object.keys(CONTENDERS).join(', ')}`);
  const mod = await import(new URL(spec.module, import.meta.url));
  return { spec, mod };
}
