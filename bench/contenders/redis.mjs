// Contender: Redis 7 sorted sets through `ioredis`.
//
// Variants (options.variant):
//   pipeline (name `redis`)     — per batch, one pipeline of ZADD GT / trim / ZREMRANGEBYSCORE
//                                 commands per touched key, plus one presence script.
//   lua      (name `redis-lua`) — the very same operations inside ONE script per batch
//                                 (BATCH_LUA): one command on the wire instead of thousands,
//                                 which is what a Redis expert would do for write throughput.
// Queries are the same in both: one ZRANGE (occasionally two) or ZCOUNT each.
//
// Keys:
//   p:<page>  ZSET user → ts of their latest view of the page (ZADD GT: max semantics),
//             trimmed to its top usersPerPage (see "ties").
//   u:<user>  ZSET page → ts (ZADD GT); ZREMRANGEBYSCORE drops entries older than
//             watermark - userWindow; trimmed to its top pagesPerUser.
//   cur       HASH user → "<ts>\t<page>": the user's latest view (presence).
//   o:<page>  ZSET user → ts for users whose latest view is on the page.
// Presence needs read-modify-write (compare with the stored latest view, move the user
// between o:<page> sets), so it runs in one Lua script per batch, in the same pipeline.
// The batch is first reduced on the client to one ZADD member per key (lib/sql-batch.mjs).
// The watermark is kept by the client (the stream's max ts), as the SQL contenders do.
//
// Ties: a ZSET orders equal scores by member bytes ASCENDING, so ZRANGE … REV returns
// equal-ts members in DESCENDING byte order, the opposite of SPEC section 2.
//   - Queries fetch k + 8, re-sort client-side by (ts desc, member asc), and when the
//     fetch may have cut the group of members sharing the k-th entry's ts, fetch that
//     whole group with ZRANGE ts ts BYSCORE.
//   - Trims: ZREMRANGEBYRANK would keep the byte-wise LARGEST of the members tied at the
//     boundary, and SPEC keeps the smallest. So a trim is a tiny script (TRIM_LUA): read
//     the score of the N-th highest member, ZREMRANGEBYSCORE everything strictly below it.
//     It keeps every member tied at the boundary (a set may briefly hold more than N), so
//     the answers stay exact however many views share a millisecond.

import Redis from 'ioredis';
import { reduceBatch } from '../lib/sql-batch.mjs';
import { compareKeys } from '../lib/keys.mjs';

const EXTRA = 8;

// ARGV: triplets user, page, ts (the batch's highest-ranked view per user).
// Lua compares strings with strcoll; the server runs with LC_ALL=C (servers/redis.sh),
// so `<` is byte-wise.
const PRESENCE_LUA = `
for i = 1, #ARGV, 3 do
  local user, page, tsText = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local ts = tonumber(tsText)
  local cur = redis.call('HGET', 'cur', user)
  local better = true
  local oldPage
  if cur then
    local sep = string.find(cur, '\\t', 1, true)
    local oldTs = tonumber(string.sub(cur, 1, sep - 1))
    oldPage = string.sub(cur, sep + 1)
    better = ts > oldTs or (ts == oldTs and page < oldPage)
  end
  if better then
    if cur then redis.call('ZREM', 'o:' .. oldPage, user) end
    redis.call('HSET', 'cur', user, tsText .. '\\t' .. page)
    redis.call('ZADD', 'o:' .. page, tsText, user)
  end
end
return #ARGV / 3
`;

// KEYS[1] = the set, ARGV[1] = N: drop members scoring below the N-th highest score.
const TRIM_BODY = `
local function trimTop(key, n)
  if redis.call('ZCARD', key) <= n then return 0 end
  local nth = redis.call('ZRANGE', key, -n, -n, 'WITHSCORES')
  return redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. nth[2])
end
`;
const TRIM_LUA = `${TRIM_BODY}
return trimTop(KEYS[1], tonumber(ARGV[1]))
`;

// One batch, reduced on the client. ARGV: expiredBelow ("(<ts>"), usersPerPage,
// pagesPerUser, #page triplets, #user triplets, then page triplets (page, user, ts),
// user triplets (user, page, ts), presence triplets (user, page, ts).
const BATCH_LUA = `${TRIM_BODY}
local expired, perPage, perUser = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local nPages, nUsers = tonumber(ARGV[4]), tonumber(ARGV[5])
local i = 6
local touched = {}
for _ = 1, nPages do
  local key = 'p:' .. ARGV[i]
  redis.call('ZADD', key, 'GT', ARGV[i + 2], ARGV[i + 1])
  touched[key] = true
  i = i + 3
end
for key in pairs(touched) do trimTop(key, perPage) end
touched = {}
for _ = 1, nUsers do
  local key = 'u:' .. ARGV[i]
  redis.call('ZADD', key, 'GT', ARGV[i + 2], ARGV[i + 1])
  touched[key] = true
  i = i + 3
end
for key in pairs(touched) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', expired)
  trimTop(key, perUser)
end
${PRESENCE_LUA.replace('for i = 1, #ARGV, 3 do', 'for i = i, #ARGV, 3 do').replace('return #ARGV / 3', '')}
return 1
`;

function pairsFrom(flat) {
  const out = new Array(flat.length / 2);
  for (let i = 0; i < flat.length; i += 2) out[i / 2] = [flat[i], Number(flat[i + 1])];
  return out;
}

const byRank = (a, b) => (b[1] - a[1]) || compareKeys(a[0], b[0]);

export async function create(options) {
  const { host, port } = options.server ?? { host: '127.0.0.1', port: 63799 };
  const redis = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await redis.connect();
  await redis.flushall();
  redis.defineCommand('presence', { numberOfKeys: 0, lua: PRESENCE_LUA });
  redis.defineCommand('trimTop', { numberOfKeys: 1, lua: TRIM_LUA });
  redis.defineCommand('ingestBatch', { numberOfKeys: 0, lua: BATCH_LUA });
  const variant = options.variant ?? 'pipeline';
  if (!['pipeline', 'lua'].includes(variant)) throw new Error(`unknown redis variant ${variant}`);

  const usersPerPage = options.usersPerPage;
  const pagesPerUser = options.pagesPerUser;
  const userWindow = options.userWindowMs;
  const presenceWindow = options.presenceWindowMs;
  let watermark = -Infinity;

  /**
   * The top `k` members of `key` with score in [min, max], in SPEC rank order.
   * min / max are numbers or '-inf' / '+inf'.
   */
  async function top(key, k, min, max) {
    const n = k + EXTRA;
    const flat = await redis.zrange(key, max, min, 'BYSCORE', 'REV', 'LIMIT', 0, n, 'WITHSCORES');
    let rows = pairsFrom(flat).sort(byRank);
    if (rows.length === n) {
      // The fetch stopped at n members: the group of members equal to the k-th's ts
      // may continue past it. Refetch that group whole.
      const boundary = rows[k - 1][1];
      if (rows[n - 1][1] === boundary) {
        const group = await redis.zrange(key, boundary, boundary, 'BYSCORE');
        rows = rows.filter((r) => r[1] > boundary).concat(group.map((m) => [m, boundary])).sort(byRank);
      }
    }
    return rows.length > k ? rows.slice(0, k) : rows;
  }

  async function ingestLua(batch) {
    const r = reduceBatch(batch, watermark, userWindow);
    watermark = r.watermark;
    const argv = [`(${watermark - userWindow}`, usersPerPage, pagesPerUser, r.pageUser.size, r.userPage.size];
    for (const [page, user, ts] of r.pageUser.values()) argv.push(page, user, ts);
    for (const [user, page, ts] of r.userPage.values()) argv.push(user, page, ts);
    for (const [user, page, ts] of r.current.values()) argv.push(user, page, ts);
    await redis.ingestBatch(...argv);
    return batch.length;
  }

  return {
    name: variant === 'lua' ? 'redis-lua' : 'redis',
    sync: false,
    async ingest(batch) {
      if (variant === 'lua') return ingestLua(batch);
      const r = reduceBatch(batch, watermark, userWindow);
      watermark = r.watermark;
      const pipe = redis.pipeline();
      const byPage = new Map();
      for (const [page, user, ts] of r.pageUser.values()) {
        let args = byPage.get(page);
        if (!args) byPage.set(page, (args = []));
        args.push(ts, user);
      }
      for (const [page, args] of byPage) {
        pipe.zadd(`p:${page}`, 'GT', ...args);
        pipe.trimTop(`p:${page}`, usersPerPage);
      }
      const byUser = new Map();
      for (const [user, page, ts] of r.userPage.values()) {
        let args = byUser.get(user);
        if (!args) byUser.set(user, (args = []));
        args.push(ts, page);
      }
      const expired = `(${watermark - userWindow}`;
      for (const [user, args] of byUser) {
        pipe.zadd(`u:${user}`, 'GT', ...args);
        pipe.zremrangebyscore(`u:${user}`, '-inf', expired);
        pipe.trimTop(`u:${user}`, pagesPerUser);
      }
      if (r.current.size) {
        const argv = [];
        for (const [user, page, ts] of r.current.values()) argv.push(user, page, String(ts));
        pipe.presence(...argv);
      }
      const results = await pipe.exec();
      for (const [err] of results) if (err) throw err;
      return batch.length;
    },
    async lastUsers(page, k) {
      return (await top(`p:${page}`, k, '-inf', '+inf')).map(([user, ts]) => ({ user, ts }));
    },
    async userPages(user, { window = userWindow, now = watermark, limit = pagesPerUser } = {}) {
      const lo = Math.max(now - window, watermark - userWindow);
      return (await top(`u:${user}`, limit, lo, now)).map(([page, ts]) => ({ page, ts }));
    },
    async onlineUsers(page, k) {
      return (await top(`o:${page}`, k, watermark - presenceWindow, watermark)).map(([user, ts]) => ({ user, ts }));
    },
    async onlineCount(page) {
      return redis.zcount(`o:${page}`, watermark - presenceWindow, watermark);
    },
    get watermark() { return watermark; },
    async settings() {
      const info = await redis.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1];
      const save = await redis.config('GET', 'save');
      const aof = await redis.config('GET', 'appendonly');
      return { server: version, variant, save: save[1], appendonly: aof[1], fetchExtra: EXTRA };
    },
    async stats() {
      const info = await redis.info('memory');
      return { dbBytes: Number(/used_memory:(\d+)/.exec(info)?.[1]), keys: await redis.dbsize() };
    },
    async close() {
      await redis.quit();
    },
  };
}
