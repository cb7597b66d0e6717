// The bundled real log (test/fixtures/apache_logs, 10,000 lines of Apache combined
// format, 17–20 May 2015) ingested whole and as a stream cut every possible way, against
// answers computed by a plain TypeScript parse and a straightforward model.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ActivityIndex, type IngestOptions, type IngestReport } from '../src/index.js';
import { digest, referenceIngest, snapshot } from './ingest-reference.js';
import { frozenClock } from './helpers.js';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'apache_logs');
const LOG = fs.readFileSync(FIXTURE);
const DAY = 86_400_000;
const MINUTE = 60_000;

// ---------------------------------------------------------------------------------
// A plain parse of the file: every line of the fixture is well formed, so one regular
// expression reads it all (the test asserts that it does).

const LINE =
  /^(\S+) (\S+) (\S+) \[(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\] "(\S+) (\S+)(?: (\S+))?" (\d{3}) (\S+)/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface View {
  user: string;
  page: string;
  ts: number;
}

function parseFixture(text: string, keepQuery = false): { views: View[]; lines: number; statuses: number[] } {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const views: View[] = [];
  const statuses: number[] = [];
  for (const line of lines) {
    const m = LINE.exec(line);
    if (m === null) throw new Error(`the plain parse cannot read: ${line}`);
    const [, host, , , dd, mon, yyyy, hh, mi, ss, sign, oh, om, , target, , status] = m as unknown as string[];
    const code = Number(status);
    statuses.push(code);
    if (code < 200 || code > 399) continue;
    const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * MINUTE;
    const ts = Date.UTC(Number(yyyy), MONTHS.indexOf(mon!), Number(dd), Number(hh), Number(mi), Number(ss)) - offset;
    const page = target!.split(keepQuery ? /#/ : /[?#]/)[0]!;
    views.push({ user: host!, page, ts });
  }
  return { views, lines: lines.length, statuses };
}

const byRank = (key: (entry: { key: string; ts: number }) => string) => (a: { key: string; ts: number }, b: { key: string; ts: number }) =>
  b.ts - a.ts || Buffer.compare(Buffer.from(key(a)), Buffer.from(key(b)));

/** The model: latest time per (page, user) and per (user, page); queries sort. */
class PlainModel {
  readonly pages = new Map<string, Map<string, number>>();
  readonly users = new Map<string, Map<string, number>>();
  watermark = -Infinity;

  constructor(views: readonly View[]) {
    for (const { user, page, ts } of views) {
      this.watermark = Math.max(this.watermark, ts);
      const byPage = this.pages.get(page) ?? new Map<string, number>();
      this.pages.set(page, byPage);
      byPage.set(user, Math.max(byPage.get(user) ?? -Infinity, ts));
      const byUser = this.users.get(user) ?? new Map<string, number>();
      this.users.set(user, byUser);
      byUser.set(page, Math.max(byUser.get(page) ?? -Infinity, ts));
    }
  }

  lastUsers(page: string, k: number): { user: string; ts: number }[] {
    return [...(this.pages.get(page) ?? [])]
      .map(([key, ts]) => ({ key, ts }))
      .sort(byRank((e) => e.key))
      .slice(0, k)
      .map(({ key, ts }) => ({ user: key, ts }));
  }

  userPages(user: string, window: number, limit = 1000): { page: string; ts: number }[] {
    return [...(this.users.get(user) ?? [])]
      .map(([key, ts]) => ({ key, ts }))
      .filter((e) => e.ts >= this.watermark - window && e.ts <= this.watermark)
      .sort(byRank((e) => e.key))
      .slice(0, limit)
      .map(({ key, ts }) => ({ page: key, ts }));
  }

  /** Q3: each user's latest view (largest ts, then smallest page), if recent enough. */
  online(presenceWindow: number): { user: string; page: string; ts: number }[] {
    const online: { user: string; page: string; ts: number }[] = [];
    for (const [user, pages] of this.users) {
      const latest = [...pages].map(([key, ts]) => ({ key, ts })).sort(byRank((e) => e.key))[0]!;
      if (latest.ts >= this.watermark - presenceWindow) online.push({ user, page: latest.key, ts: latest.ts });
    }
    return online.sort((a, b) => b.ts - a.ts || Buffer.compare(Buffer.from(a.user), Buffer.from(b.user)));
  }
}

const parsed = parseFixture(LOG.toString('utf8'));
const model = new PlainModel(parsed.views);
const PAGES = [...model.pages.keys()].sort();
const USERS = [...model.users.keys()].sort();

/**
 * Every sound line counted, whatever its method, page or agent: the plain parse and the
 * model above read the log so. The default view rules have their own tests below.
 */
const EVERY_LINE = { methods: 'any', ignoreStatic: false, ignoreCrawlers: false } as const satisfies IngestOptions;

const FIXTURE_REPORT: IngestReport = {
  lines: 10_000,
  accepted: 9_780,
  rejected: 220,
  late: 0,
  reasons: { filtered: 220 },
  samples: [],
};

function openIndex(userWindow: string | number): ActivityIndex {
  return new ActivityIndex({ usersPerPage: 30, userWindow, now: frozenClock });
}

/** Digest of the report and of every answer about the fixture's keys. */
function answersDigest(index: ActivityIndex, report: IngestReport): string {
  return digest({ report, answers: snapshot(index, PAGES, USERS, 30) });
}

async function streamInChunks(index: ActivityIndex, data: Buffer, cut: (i: number) => number, options: IngestOptions = EVERY_LINE): Promise<IngestReport> {
  const stream = index.createIngestStream(options);
  let emitted: IngestReport | undefined;
  stream.on('report', (report: IngestReport) => (emitted = report));
  let i = 0;
  for (let at = 0; at < data.length; i++) {
    const size = cut(i);
    stream.write(data.subarray(at, at + size));
    at += size;
  }
  stream.end();
  await new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  expect(emitted).toEqual(stream.report);
  return stream.report;
}

describe('ingest() of the real Apache log (test/fixtures/apache_logs)', () => {
  it('is read whole by the plain parse: the counts the fixture README states', () => {
    expect(parsed.lines).toBe(10_000);
    const count = (lo: number, hi: number) => parsed.statuses.filter((s) => s >= lo && s <= hi).length;
    expect([count(200, 299), count(300, 399), count(400, 499), count(500, 599)]).toEqual([9_171, 609, 217, 3]);
    expect(parsed.views.length).toBe(9_780);
  });

  it('reports 9,780 accepted and 220 filtered, with no samples', () => {
    const index = openIndex('7d');
    try {
      expect(index.ingest(LOG, EVERY_LINE)).toEqual(FIXTURE_REPORT);
      const stats = index.stats();
      expect(stats.events).toBe(9_780);
      expect(stats.pages).toBe(PAGES.length);
      expect(stats.users).toBe(USERS.length);
      expect(stats.watermark).toBe(model.watermark);
      expect(index.watermark).toBe(model.watermark);
      index.validate();
    } finally {
      index.close();
    }
  });

  it('answers Q1 for every page and Q2 for every user as the model does (userWindow 7d covers the log)', () => {
    const index = openIndex('7d');
    try {
      index.ingest(LOG, EVERY_LINE);
      // the log spans less than 4 days, so a 7d window sees all of it
      expect(model.watermark - Math.min(...parsed.views.map((v) => v.ts))).toBeLessThan(4 * DAY);
      for (const page of PAGES) expect(index.lastUsers(page, 30), page).toEqual(model.lastUsers(page, 30));
      for (const user of USERS) {
        expect(index.userPages(user, { window: '7d' }), user).toEqual(model.userPages(user, 7 * DAY));
        expect(index.userPages(user), user).toEqual(model.userPages(user, 7 * DAY));
      }
      // narrower windows at the same watermark
      for (const user of USERS) {
        expect(index.userPages(user, { window: '1d' }), user).toEqual(model.userPages(user, DAY));
        expect(index.userPages(user, { window: '1h', limit: 3 }), user).toEqual(model.userPages(user, 60 * MINUTE, 3));
      }
      expect(index.lastUsers('/never-requested', 30)).toEqual([]);
      expect(index.userPages('0.0.0.0')).toEqual([]);
    } finally {
      index.close();
    }
  });

  it('answers Q1, Q2 and Q3 as the model does with the default 30m window (most users expired)', () => {
    const index = new ActivityIndex({ usersPerPage: 30, now: frozenClock });
    try {
      expect(index.ingest(LOG, EVERY_LINE)).toEqual(FIXTURE_REPORT);
      const window = 30 * MINUTE;
      for (const page of PAGES) expect(index.lastUsers(page, 30), page).toEqual(model.lastUsers(page, 30));
      let withPages = 0;
      for (const user of USERS) {
        const expected = model.userPages(user, window);
        if (expected.length > 0) withPages++;
        expect(index.userPages(user), user).toEqual(expected);
        expect(index.userPages(user, { window: '10m' }), user).toEqual(model.userPages(user, 10 * MINUTE));
      }
      // the window is a real filter here: some users have pages in it, most do not
      expect(withPages).toBeGreaterThan(0);
      expect(withPages).toBeLessThan(USERS.length / 2);
      const online = model.online(window);
      expect(index.onlineCount()).toBe(online.length);
      for (const page of PAGES) {
        const here = online.filter((o) => o.page === page).map(({ user, ts }) => ({ user, ts }));
        expect(index.onlineUsers(page, 1000), page).toEqual(here);
        expect(index.onlineCount(page), page).toBe(here.length);
      }
      index.validate();
    } finally {
      index.close();
    }
  });

  it('keeps query strings with keepQuery: true, as the model does', () => {
    const withQuery = parseFixture(LOG.toString('utf8'), true);
    const queryModel = new PlainModel(withQuery.views);
    const index = openIndex('7d');
    try {
      expect(index.ingest(LOG, { ...EVERY_LINE, keepQuery: true })).toEqual(FIXTURE_REPORT);
      expect(queryModel.pages.size).toBeGreaterThan(model.pages.size);
      expect(index.stats().pages).toBe(queryModel.pages.size);
      for (const page of queryModel.pages.keys()) {
        expect(index.lastUsers(page, 30), page).toEqual(queryModel.lastUsers(page, 30));
      }
      for (const user of USERS) expect(index.userPages(user), user).toEqual(queryModel.userPages(user, 7 * DAY));
    } finally {
      index.close();
    }
  });

  // Issue 14: combined's own LogFormat and log_format, compiled, read the fixture as the
  // built-in combined does, line 8899 (an agent without its closing quote) included: the
  // unused tail after the referer's opening quote is not read (docs/ingest.md).
  it.each([
    { apache: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"' },
    { nginx: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"' },
  ])('gives the same report and answers through the compiled format %j', (format) => {
    const builtIn = openIndex('7d');
    const compiled = openIndex('7d');
    try {
      const builtInReport = builtIn.ingest(LOG, EVERY_LINE);
      const compiledReport = compiled.ingest(LOG, { ...EVERY_LINE, format });
      expect(compiledReport).toEqual(FIXTURE_REPORT);
      expect(answersDigest(compiled, compiledReport)).toBe(answersDigest(builtIn, builtInReport));
      // And under the default view rules, which read the method and the agent.
      const ruledBuiltIn = openIndex('7d');
      const ruledCompiled = openIndex('7d');
      try {
        const ruledReport = ruledBuiltIn.ingest(LOG);
        expect(ruledCompiled.ingest(LOG, { format })).toEqual(ruledReport);
        expect(answersDigest(ruledCompiled, ruledReport)).toBe(answersDigest(ruledBuiltIn, ruledReport));
      } finally {
        ruledBuiltIn.close();
        ruledCompiled.close();
      }
      const line8899 = LOG.toString('latin1').split('\n')[8898]!;
      expect(line8899.endsWith('bot.html')).toBe(true);
      const one = openIndex('7d');
      try {
        expect(one.ingest(line8899, { ...EVERY_LINE, format })).toMatchObject({ accepted: 1 });
        expect(one.ingest(line8899, { format })).toMatchObject({ reasons: { crawler: 1 } });
        expect(one.lastUsers('/scripts/grok-py-test/configlib.py')).toEqual([{ user: '46.118.127.106', ts: Date.UTC(2015, 4, 20, 12, 5, 17) }]);
      } finally {
        one.close();
      }
    } finally {
      builtIn.close();
      compiled.close();
    }
  });

  it("reads every authuser as '-': user 'authuser' filters all, 'authuser|host' equals 'host'", () => {
    const host = openIndex('7d');
    const either = openIndex('7d');
    const authuser = openIndex('7d');
    try {
      const hostReport = host.ingest(LOG, { ...EVERY_LINE, user: 'host' });
      const eitherReport = either.ingest(LOG, { ...EVERY_LINE, user: 'authuser|host' });
      expect(eitherReport).toEqual(hostReport);
      expect(answersDigest(either, eitherReport)).toBe(answersDigest(host, hostReport));
      expect(authuser.ingest(LOG, { ...EVERY_LINE, user: 'authuser' })).toEqual({
        lines: 10_000,
        accepted: 0,
        rejected: 10_000,
        late: 0,
        reasons: { filtered: 10_000 },
        samples: [],
      });
      expect(authuser.stats().events).toBe(0);
    } finally {
      host.close();
      either.close();
      authuser.close();
    }
  });

  it('agrees with the documented-rules reference (test/ingest-reference.ts) line for line', () => {
    const { report, events } = referenceIngest(LOG, EVERY_LINE, { userWindow: 7 * DAY });
    expect(report).toEqual(FIXTURE_REPORT);
    expect(events).toEqual(parsed.views);
  });

  it('gives the same report and answers for a string as for the Buffer, and for a Uint8Array view', () => {
    const fromBuffer = openIndex('7d');
    const fromString = openIndex('7d');
    const fromView = openIndex('7d');
    try {
      const a = fromBuffer.ingest(LOG, EVERY_LINE);
      const b = fromString.ingest(LOG.toString('utf8'), EVERY_LINE);
      // a Uint8Array that is a window into a larger buffer (non-zero byteOffset)
      const backing = new Uint8Array(LOG.length + 16);
      backing.set(LOG, 7);
      const c = fromView.ingest(backing.subarray(7, 7 + LOG.length), EVERY_LINE);
      expect(b).toEqual(a);
      expect(c).toEqual(a);
      const expected = answersDigest(fromBuffer, a);
      expect(answersDigest(fromString, b)).toBe(expected);
      expect(answersDigest(fromView, c)).toBe(expected);
    } finally {
      fromBuffer.close();
      fromString.close();
      fromView.close();
    }
  });
});

describe('createIngestStream() over the real log', () => {
  const whole = (() => {
    const index = openIndex('7d');
    try {
      const report = index.ingest(LOG, EVERY_LINE);
      return { report, digest: answersDigest(index, report) };
    } finally {
      index.close();
    }
  })();

  it('gives the whole-buffer report and answers through stream.pipeline(fs.createReadStream())', async () => {
    for (const highWaterMark of [undefined, 1000, 4093]) {
      const index = openIndex('7d');
      try {
        const stream = index.createIngestStream(EVERY_LINE);
        const reports: IngestReport[] = [];
        stream.on('report', (report: IngestReport) => reports.push(report));
        await pipeline(fs.createReadStream(FIXTURE, highWaterMark === undefined ? {} : { highWaterMark }), stream);
        expect(reports).toEqual([whole.report]);
        expect(stream.report).toEqual(whole.report);
        expect(answersDigest(index, stream.report)).toBe(whole.digest);
        index.validate();
      } finally {
        index.close();
      }
    }
  });

  it('gives the whole-buffer report and answers for odd and large fixed chunk sizes', async () => {
    for (const size of [5, 64, 199, 1000, 4093, 65_535, 65_536, 65_537, (1 << 20) + 7, LOG.length, LOG.length + 1]) {
      const index = openIndex('7d');
      try {
        const report = await streamInChunks(index, LOG, () => size);
        expect(report, `chunk size ${size}`).toEqual(whole.report);
        expect(answersDigest(index, report), `chunk size ${size}`).toBe(whole.digest);
      } finally {
        index.close();
      }
    }
  });

  it('gives the whole-buffer report and answers when chunk sizes cycle through 1..64 bytes', async () => {
    for (const phase of [0, 17, 63]) {
      const index = openIndex('7d');
      try {
        const report = await streamInChunks(index, LOG, (i) => ((i + phase) % 64) + 1);
        expect(report, `phase ${phase}`).toEqual(whole.report);
        expect(answersDigest(index, report), `phase ${phase}`).toBe(whole.digest);
      } finally {
        index.close();
      }
    }
  });

  // Every chunk size from 1 to 64 bytes. Feeding 2.4 MB one byte per write takes
  // seconds, so this sweep runs on a 240 KB part of the log: its first 500 lines and
  // the 500 around line 8899, whose agent lost its closing quote.
  it('gives the whole-buffer report and answers at every chunk size from 1 to 64 bytes', async () => {
    const lines = LOG.toString('latin1').split('\n');
    const part = Buffer.from([...lines.slice(0, 500), ...lines.slice(8_700, 9_200), ''].join('\n'), 'latin1');
    const expected = (() => {
      const index = openIndex('7d');
      try {
        const report = index.ingest(part, EVERY_LINE);
        expect(report.lines).toBe(1_000);
        return { report, digest: answersDigest(index, report) };
      } finally {
        index.close();
      }
    })();
    for (let size = 1; size <= 64; size++) {
      const index = openIndex('7d');
      try {
        const report = await streamInChunks(index, part, () => size);
        expect(report, `chunk size ${size}`).toEqual(expected.report);
        expect(answersDigest(index, report), `chunk size ${size}`).toBe(expected.digest);
      } finally {
        index.close();
      }
    }
  });
});

describe('ingest() of the real log with the default view rules (what counts as a page view)', () => {
  it('drops the other methods, the static files and the crawlers, each under its reason, as the reference does', () => {
    const expected = referenceIngest(LOG, {}, { userWindow: 7 * DAY });
    // method: the log's 42 HEAD, 5 POST and 1 OPTIONS lines, of which 36 have a status
    // that counts (awk '$6 != "\"GET" && $9 >= 200 && $9 <= 399'); the rest as the reference reads it.
    expect(expected.report).toEqual({
      lines: 10_000,
      accepted: 2_758,
      rejected: 7_242,
      late: 0,
      reasons: { filtered: 220, method: 36, static: 5_348, crawler: 1_638 },
      samples: [],
    });
    const index = openIndex('7d');
    try {
      expect(index.ingest(LOG)).toEqual(expected.report);
      const { pages, users } = { pages: [...new Set(expected.events.map((e) => e.page))], users: [...new Set(expected.events.map((e) => e.user))] };
      const recorded = openIndex('7d');
      try {
        for (const e of expected.events) recorded.record(e.user, e.page, e.ts);
        expect(snapshot(index, pages, users, 30)).toEqual(snapshot(recorded, pages, users, 30));
      } finally {
        recorded.close();
      }
      // The busiest pages are articles now, not the favicon or the stylesheets.
      const busiest = pages.map((page) => ({ page, readers: index.lastUsers(page, 30).length })).sort((a, b) => b.readers - a.readers);
      for (const { page } of busiest.slice(0, 10)) expect(page).not.toMatch(/\.(ico|css|js|png|jpe?g|gif)$|^\/robots\.txt$/i);
    } finally {
      index.close();
    }
  });

  it('agrees with the reference under other rules too (GET and HEAD, own lists, keepQuery)', () => {
    for (const options of [
      { methods: ['GET', 'HEAD'] },
      { staticExtensions: ['png', '.JS'], crawlers: ['Googlebot', 'bingbot'] },
      { keepQuery: true, ignoreCrawlers: false },
      { methods: 'any', ignoreStatic: false },
    ] satisfies IngestOptions[]) {
      const index = openIndex('7d');
      try {
        expect(index.ingest(LOG, options), JSON.stringify(options)).toEqual(referenceIngest(LOG, options, { userWindow: 7 * DAY }).report);
      } finally {
        index.close();
      }
    }
  });
});
