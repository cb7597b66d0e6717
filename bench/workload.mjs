// The standard benchmark workload: a seeded, deterministic stream of page views.
//
// Same seed and options → byte-identical keys, events, log lines and query samples, on
// every machine (the generator uses only 32-bit integer arithmetic and IEEE doubles).
//
// Shape (defaults):
//   - 100,000 users: a fifth IPv4-like ("203.0.113.45"), the rest "u123456" ids and
//     name-like handles ("maria.k82", a few with non-ASCII letters, so byte-wise order
//     matters); users drawn Zipf(s = 0.8).
//   - 20,000 pages: paths like "/news/2015/05/some-slug-123"; pages drawn Zipf(s = 1.0).
//   - Rank → key mappings are shuffled, so hot keys are not all short or all IPs.
//   - 2,000 events per simulated second from 2015-05-17T00:00:00Z, spread evenly over
//     the second (event i is at epoch + floor(i * 1000 / rate) ms).
//   - 5% of events are late: ts minus a uniform integer 0..2000 ms.
//
// Exports: generateWorkload (struct of arrays), eventObjects / eventBatches (arrays of
// { user, page, ts }), writeCombinedLog / combinedLogBuffer and writeNdjson /
// ndjsonBuffer, createQuerySampler (pages and users drawn by the workload's own skew),
// and the PRNG and Zipf sampler themselves.
//
// CLI: node bench/workload.mjs [--events N] [--seed S] [--format combined|ndjson]
//                              [--resolution ms|s] [--out FILE]   (default: stdout)

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DEFAULTS = Object.freeze({
  events: 1_000_000,
  users: 100_000,
  pages: 20_000,
  ipUserFraction: 0.2,
  userSkew: 0.8,
  pageSkew: 1.0,
  eventsPerSecond: 2_000,
  epoch: Date.UTC(2015, 4, 17, 0, 0, 0), // 2015-05-17T00:00:00Z
  lateFraction: 0.05,
  maxLatenessMs: 2_000,
  resolution: 'ms', // 's' truncates every ts to whole seconds (what a combined log keeps)
  seed: 20150517,
});

// ---------------------------------------------------------------------------------
// PRNG: xoshiro128** (Blackman & Vigna), seeded through splitmix32. 32-bit state words,
// Math.imul for the multiplications, so results do not depend on float rounding.

function splitmix32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  constructor(seed) {
    const sm = splitmix32(seed);
    this.a = sm(); this.b = sm(); this.c = sm(); this.d = sm();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32() {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a; this.d ^= this.b; this.b ^= this.c; this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  next() {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), n <= 2^32. */
  int(n) {
    return Math.floor(this.next() * n);
  }

  pick(array) {
    return array[this.int(array.length)];
  }

  /** Fisher–Yates, in place. */
  shuffle(array) {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = array[i]; array[i] = array[j]; array[j] = t;
    }
    return array;
  }
}

function rotl(x, k) {
  return (x << k) | (x >>> (32 - k));
}

// ---------------------------------------------------------------------------------
// Zipf(s) over ranks 0..n-1 (rank r has weight 1 / (r + 1)^s): a precomputed CDF and a
// binary search per draw.

export class ZipfSampler {
  constructor(n, s) {
    this.n = n;
    this.s = s;
    const cdf = new Float64Array(n);
    let sum = 0;
    for (let r = 0; r < n; r++) {
      sum += 1 / Math.pow(r + 1, s);
      cdf[r] = sum;
    }
    for (let r = 0; r < n; r++) cdf[r] /= sum;
    cdf[n - 1] = 1;
    this.cdf = cdf;
  }

  /** A rank in [0, n): the smallest r with cdf[r] > u. */
  sample(rng) {
    const u = rng.next();
    const cdf = this.cdf;
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > u) hi = mid; else lo = mid + 1;
    }
    return lo;
  }

  /** Probability of rank r. */
  probability(r) {
    return r === 0 ? this.cdf[0] : this.cdf[r] - this.cdf[r - 1];
  }
}

// ---------------------------------------------------------------------------------
// Keys

const FIRST_NAMES = [
  'maria', 'john', 'anna', 'li', 'wei', 'olga', 'pedro', 'sara', 'ahmed', 'yuki', 'lena',
  'omar', 'ivan', 'nina', 'paul', 'emma', 'lucas', 'mia', 'noah', 'chen', 'fatima',
  'david', 'elena', 'jonas', 'aisha', 'tom', 'kate', 'raj', 'priya', 'hugo', 'ines',
];
const ACCENTED_NAMES = ['josé', 'zoë', 'åsa', 'jürgen', 'chloé', 'søren', 'łukasz', 'þóra', 'müller', 'renée'];
const RARE_NAMES = ['日向', 'игорь', 'ζωή', 'nico😀', 'ana𝔸']; // CJK, Cyrillic, Greek, astral plane
const LAST_NAMES = [
  'smith', 'k', 'garcia', 'nguyen', 'b', 'ivanova', 'kim', 'm', 'silva', 'lopez', 'z',
  'tanaka', 'brown', 'r', 'novak', 'jensen', 'rossi', 'w', 'dubois', 'khan', 'p',
];
const SEPARATORS = ['.', '_', '', '-'];

const SECTIONS = [
  'news', 'sport', 'tech', 'blog', 'culture', 'business', 'science', 'travel', 'opinion',
  'video', 'world', 'politics', 'music', 'food', 'health',
];
const WORDS = [
  'election', 'results', 'storm', 'warning', 'city', 'council', 'budget', 'vote', 'final',
  'match', 'report', 'review', 'new', 'phone', 'launch', 'market', 'rally', 'study',
  'finds', 'coffee', 'sleep', 'best', 'beaches', 'europe', 'guide', 'how', 'to', 'fix',
  'your', 'bike', 'summer', 'festival', 'lineup', 'recipe', 'pasta', 'quick', 'easy',
  'space', 'mission', 'mars', 'climate', 'talks', 'open', 'source', 'release', 'notes',
  'interview', 'with', 'the', 'mayor', 'train', 'strike', 'ends', 'record', 'heat',
];

function makeUserKeys(rng, count, ipFraction) {
  const seen = new Set();
  const keys = [];
  const ipCount = Math.round(count * ipFraction);
  while (keys.length < ipCount) {
    const a = 1 + rng.int(223);
    if (a === 10 || a === 127) continue;
    const key = `${a}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`;
    if (!seen.has(key)) { seen.add(key); keys.push(key); }
  }
  while (keys.length < count) {
    const kind = rng.next();
    let key;
    if (kind < 0.5) {
      key = 'u' + String(rng.int(1_000_000)).padStart(6, '0');
    } else {
      const r = rng.next();
      const first = r < 0.0005 ? rng.pick(RARE_NAMES) : r < 0.02 ? rng.pick(ACCENTED_NAMES) : rng.pick(FIRST_NAMES);
      const digits = rng.next() < 0.7 ? String(rng.int(r < 0.5 ? 100 : 10_000)) : '';
      key = first + rng.pick(SEPARATORS) + rng.pick(LAST_NAMES) + digits;
    }
    if (!seen.has(key)) { seen.add(key); keys.push(key); }
  }
  return keys;
}

function makePageKeys(rng, count) {
  const keys = new Array(count);
  for (let i = 0; i < count; i++) {
    const section = rng.pick(SECTIONS);
    const month = String(1 + rng.int(5)).padStart(2, '0');
    const nWords = 1 + rng.int(4);
    const words = [];
    for (let w = 0; w < nWords; w++) words.push(rng.pick(WORDS));
    // The trailing number is unique per page, so no two pages collide.
    keys[i] = `/${section}/2015/${month}/${words.join('-')}-${i + 1}`;
  }
  return keys;
}

// ---------------------------------------------------------------------------------
// The event stream

/**
 * Generates the workload as a struct of arrays.
 * Returns { options, users: string[], pages: string[], userRankToId: Uint32Array,
 *   pageRankToId: Uint32Array, user: Uint32Array, page: Uint32Array, ts: Float64Array,
 *   length, lateCount, maxTs }.
 * Event i is { user: users[user[i]], page: pages[page[i]], ts: ts[i] }.
 */
export function generateWorkload(opts = {}) {
  const o = { ...DEFAULTS, ...opts };
  if (!Number.isInteger(o.events) || o.events < 0) throw new RangeError(`events must be an integer >= 0, got ${o.events}`);
  if (o.resolution !== 'ms' && o.resolution !== 's') throw new RangeError(`resolution must be 'ms' or 's', got ${o.resolution}`);

  const keyRng = new Rng(o.seed);
  const users = makeUserKeys(keyRng, o.users, o.ipUserFraction);
  const pages = makePageKeys(keyRng, o.pages);
  // users[] is IPs first; the shuffled rank → id mapping spreads them over all ranks.
  const userRankToId = keyRng.shuffle(Uint32Array.from({ length: o.users }, (_, i) => i));
  const pageRankToId = keyRng.shuffle(Uint32Array.from({ length: o.pages }, (_, i) => i));

  const userZipf = new ZipfSampler(o.users, o.userSkew);
  const pageZipf = new ZipfSampler(o.pages, o.pageSkew);
  const rng = new Rng((o.seed ^ 0x5eed1e55) >>> 0);

  const n = o.events;
  const user = new Uint32Array(n);
  const page = new Uint32Array(n);
  const ts = new Float64Array(n);
  let lateCount = 0;
  let maxTs = -Infinity;
  for (let i = 0; i < n; i++) {
    user[i] = userRankToId[userZipf.sample(rng)];
    page[i] = pageRankToId[pageZipf.sample(rng)];
    let t = o.epoch + Math.floor((i * 1000) / o.eventsPerSecond);
    if (rng.next() < o.lateFraction) {
      t -= rng.int(o.maxLatenessMs + 1);
      lateCount++;
    }
    if (o.resolution === 's') t -= t % 1000;
    if (t < 0) t = 0;
    ts[i] = t;
    if (t > maxTs) maxTs = t;
  }
  return {
    options: o, users, pages, userRankToId, pageRankToId, userZipf, pageZipf,
    user, page, ts, length: n, lateCount, maxTs,
  };
}

/**
 * The generated workload's measured shape, to print before trusting a benchmark's
 * output (a generator whose clock never moved makes every event a tie and measures a
 * different program). Returns { events, spanMs, distinctUsers, distinctPages,
 * distinctTimestamps, maxEventsPerTimestamp, tiedEvents (events sharing their ts with
 * another), outOfOrder (events older than one before them) }.
 */
export function workloadShape(w) {
  const seenUser = new Uint8Array(w.users.length);
  const seenPage = new Uint8Array(w.pages.length);
  const perTs = new Map();
  let minTs = Infinity;
  let maxTs = -Infinity;
  let outOfOrder = 0;
  for (let i = 0; i < w.length; i++) {
    seenUser[w.user[i]] = 1;
    seenPage[w.page[i]] = 1;
    const t = w.ts[i];
    if (t < maxTs) outOfOrder++;
    if (t > maxTs) maxTs = t;
    if (t < minTs) minTs = t;
    perTs.set(t, (perTs.get(t) ?? 0) + 1);
  }
  let maxEventsPerTimestamp = 0;
  let tiedEvents = 0;
  for (const count of perTs.values()) {
    if (count > maxEventsPerTimestamp) maxEventsPerTimestamp = count;
    if (count > 1) tiedEvents += count;
  }
  const sum = (flags) => flags.reduce((a, b) => a + b, 0);
  return {
    events: w.length, spanMs: w.length ? maxTs - minTs : 0,
    distinctUsers: sum(seenUser), distinctPages: sum(seenPage),
    distinctTimestamps: perTs.size, maxEventsPerTimestamp, tiedEvents, outOfOrder,
  };
}

/** workloadShape(w) as one line, e.g. "shape: 1,000,000 events over 500.0 s; ...". */
export function describeWorkload(w) {
  const s = workloadShape(w);
  const n = (v) => v.toLocaleString('en-US');
  const pct = (v) => (s.events ? ((100 * v) / s.events).toFixed(1) : '0.0');
  const warning = s.events > 1 && s.distinctTimestamps === 1 ? ' — WARNING: every event has the same ts' : '';
  return `shape: ${n(s.events)} events over ${(s.spanMs / 1000).toFixed(1)} s; ${n(s.distinctUsers)} distinct users, ` +
    `${n(s.distinctPages)} distinct pages drawn; ${n(s.distinctTimestamps)} distinct timestamps (at most ` +
    `${n(s.maxEventsPerTimestamp)} events on one; ${pct(s.tiedEvents)}% of events tie); ${pct(s.outOfOrder)}% out of order${warning}`;
}

/** Events [start, end) as an array of { user, page, ts } objects. */
export function eventObjects(w, start = 0, end = w.length) {
  const out = new Array(Math.max(0, end - start));
  for (let i = start; i < end; i++) {
    out[i - start] = { user: w.users[w.user[i]], page: w.pages[w.page[i]], ts: w.ts[i] };
  }
  return out;
}

/** Yields events [start, end) in arrays of up to `size` { user, page, ts } objects. */
export function* eventBatches(w, size = 1000, start = 0, end = w.length) {
  for (let i = start; i < end; i += size) yield eventObjects(w, i, Math.min(end, i + size));
}

// ---------------------------------------------------------------------------------
// Log writers

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const REFERERS = [
  '-', '-', 'https://www.google.com/', 'https://news.ycombinator.com/', 'https://t.co/x7Yq2',
  'https://www.facebook.com/', 'https://example.org/', 'https://duckduckgo.com/',
];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.135 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_3) AppleWebKit/600.5.17 (KHTML, like Gecko) Version/8.0.5 Safari/600.5.17',
  'Mozilla/5.0 (Windows NT 6.3; WOW64; rv:37.0) Gecko/20100101 Firefox/37.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 8_3 like Mac OS X) AppleWebKit/600.1.4 (KHTML, like Gecko) Version/8.0 Mobile/12F70 Safari/600.1.4',
  'Mozilla/5.0 (Linux; Android 5.0.2; SM-G920F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/42.0.2311.111 Mobile Safari/537.36',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
];

/** "[17/May/2015:10:05:03 +0000]" for a ts in ms (truncated to the second, UTC). */
export function formatClfTime(ts) {
  const d = new Date(ts - (ts % 1000));
  const p2 = (v) => (v < 10 ? '0' + v : String(v));
  return `[${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000]`;
}

function combinedLines(w, start, end, emit) {
  for (const text of combinedTexts(w, start, end)) emit(text);
}

// Yields events [start, end) as combined log text, 4,096 whole lines (~1 MiB) at a time.
/**
 * The decorations of a workload's log lines, event by event from `start`: call the
 * returned function once per event for { bytes, referer, agent }. They come from their
 * own seeded stream, so they never disturb the events, and every log writer (combined
 * here, the other formats in bench/text-formats.mjs) gives event i the same agent: the
 * same lines are crawlers' in every format.
 */
export function lineDecorations(w) {
  const rng = new Rng((w.options.seed ^ 0x10c10c) >>> 0);
  return () => ({ bytes: 200 + rng.int(50_000), referer: rng.pick(REFERERS), agent: rng.pick(AGENTS) });
}

function* combinedTexts(w, start, end) {
  const decorate = lineDecorations(w);
  for (let i = 0; i < start; i++) decorate();
  let lastSecond = NaN;
  let timeStr = '';
  const parts = [];
  for (let i = start; i < end; i++) {
    const t = w.ts[i];
    const second = t - (t % 1000);
    if (second !== lastSecond) { lastSecond = second; timeStr = formatClfTime(second); }
    const { bytes, referer, agent } = decorate();
    parts.push(`${w.users[w.user[i]]} - - ${timeStr} "GET ${w.pages[w.page[i]]} HTTP/1.1" 200 ${bytes} "${referer}" "${agent}"\n`);
    if (parts.length === 4096) { yield parts.join(''); parts.length = 0; }
  }
  if (parts.length) yield parts.join('');
}

function ndjsonLines(w, start, end, emit) {
  const parts = [];
  for (let i = start; i < end; i++) {
    parts.push(JSON.stringify({ user: w.users[w.user[i]], page: w.pages[w.page[i]], ts: w.ts[i] }) + '\n');
    if (parts.length === 4096) { emit(parts.join('')); parts.length = 0; }
  }
  if (parts.length) emit(parts.join(''));
}

function writeTo(target, produce) {
  const fd = typeof target === 'number' ? target : fs.openSync(target, 'w');
  let bytes = 0;
  try {
    produce((s) => {
      const b = Buffer.from(s, 'utf8');
      let off = 0;
      while (off < b.length) off += fs.writeSync(fd, b, off);
      bytes += b.length;
    });
  } finally {
    if (typeof target !== 'number') fs.closeSync(fd);
  }
  return bytes;
}

function collect(produce) {
  const chunks = [];
  produce((s) => chunks.push(Buffer.from(s, 'utf8')));
  return Buffer.concat(chunks);
}

/**
 * Writes events [start, end) as Apache combined log lines (host = user, status 200,
 * "GET <page> HTTP/1.1"). The log keeps whole seconds only: an index fed from it sees
 * ts truncated to the second (generate with resolution: 's' to compare the two).
 * `target` is a path or a file descriptor. Returns the number of bytes written.
 */
export function writeCombinedLog(w, target, start = 0, end = w.length) {
  return writeTo(target, (emit) => combinedLines(w, start, end, emit));
}

/** Events [start, end) as a Buffer of combined log lines. */
export function combinedLogBuffer(w, start = 0, end = w.length) {
  return collect((emit) => combinedLines(w, start, end, emit));
}

/**
 * Yields events [start, end) as Buffers of 4,096 whole combined log lines (~1 MiB),
 * the same bytes as combinedLogBuffer, without holding the whole log.
 */
export function* combinedLogChunks(w, start = 0, end = w.length) {
  for (const text of combinedTexts(w, start, end)) yield Buffer.from(text, 'utf8');
}

/** Writes events [start, end) as NDJSON lines {"user","page","ts"} (ts in ms). */
export function writeNdjson(w, target, start = 0, end = w.length) {
  return writeTo(target, (emit) => ndjsonLines(w, start, end, emit));
}

/** Events [start, end) as a Buffer of NDJSON lines. */
export function ndjsonBuffer(w, start = 0, end = w.length) {
  return collect((emit) => ndjsonLines(w, start, end, emit));
}

// ---------------------------------------------------------------------------------
// Query samplers: keys drawn with the workload's own skew and rank → key mapping, so
// hot pages and users are queried as often as they are viewed.

export function createQuerySampler(w, seed = w.options.seed + 1) {
  const rng = new Rng((seed ^ 0x9e37) >>> 0);
  return {
    page: () => w.pages[w.pageRankToId[w.pageZipf.sample(rng)]],
    user: () => w.users[w.userRankToId[w.userZipf.sample(rng)]],
    pages(n) { return Array.from({ length: n }, () => this.page()); },
    users(n) { return Array.from({ length: n }, () => this.user()); },
  };
}

// ---------------------------------------------------------------------------------
// CLI

function parseCli(argv) {
  const out = { events: DEFAULTS.events, seed: DEFAULTS.seed, format: 'combined', resolution: DEFAULTS.resolution, out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--events') out.events = Number(val());
    else if (a === '--seed') out.seed = Number(val());
    else if (a === '--format') out.format = val();
    else if (a === '--resolution') out.resolution = val();
    else if (a === '--out') out.out = val();
    else throw new Error(`unknown argument ${a}`);
  }
  if (!['combined', 'ndjson'].includes(out.format)) throw new Error(`--format must be combined or ndjson`);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const args = parseCli(process.argv.slice(2));
  const w = generateWorkload({ events: args.events, seed: args.seed, resolution: args.resolution });
  const target = args.out ?? 1;
  const bytes = args.format === 'combined' ? writeCombinedLog(w, target) : writeNdjson(w, target);
  if (args.out) process.stderr.write(`wrote ${w.length} events (${bytes} bytes, ${args.format}) to ${args.out}\n`);
}
