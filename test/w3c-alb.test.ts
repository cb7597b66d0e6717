// W3C extended logs (IIS, CloudFront) and AWS ALB access logs (issue 14): realistic
// fixtures read as the plain TypeScript reference reads them, and random values written
// as lines parse back exactly.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IngestOptions, IngestReport } from '../src/index.js';
import { referenceAlb, referenceW3c, type RefLine, type RefView } from './format-reference.js';
import { openIndex } from './helpers.js';
import { runCli } from './live-helpers.js';

const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8').replace(/\n$/, '');

/** Ingests `text` and checks the report's reasons and every view against the reference's. */
function checkAgainstReference(text: string, expected: RefLine[], options: IngestOptions): IngestReport {
  const index = openIndex({ userWindow: '7d' });
  const report = index.ingest(text, options);
  const views = expected.flatMap((r) => ('view' in r ? [r.view] : []));
  const reasons: Record<string, number> = {};
  for (const r of expected) if ('reason' in r) reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;
  expect(report.lines).toBe(expected.length);
  expect(report.accepted).toBe(views.length);
  expect(report.reasons).toEqual(reasons);
  for (const view of views) expect(index.lastUsers(view.page), view.page).toContainEqual({ user: view.user, ts: latest(views, view) });
  return report;
}

function latest(views: RefView[], v: RefView): number {
  return Math.max(...views.filter((o) => o.user === v.user && o.page === v.page).map((o) => o.ts));
}

describe("format: 'w3c'", () => {
  const iis = fixture('iis_w3c.log');
  const cloudfront = fixture('cloudfront_w3c.log');

  it('reads an IIS log whose #Fields: changes mid-file, as the reference does', () => {
    const report = checkAgainstReference(iis, referenceW3c(iis), { format: 'w3c' });
    expect(report).toMatchObject({ accepted: 8, reasons: { filtered: 14, malformed: 1, 'bad-time': 1, method: 3, static: 2, crawler: 5 } });
    const index = openIndex({ userWindow: '7d' });
    index.ingest(iis, { format: 'w3c' });
    // cs-username when present, else c-ip; date + time in UTC.
    expect(index.lastUsers('/account/home.aspx')).toEqual([{ user: 'CORP\\alice', ts: Date.UTC(2026, 10, 28, 10, 5, 1) }]);
    expect(index.lastUsers('/reports/q3.aspx')).toEqual([{ user: '2001:db8::7', ts: Date.UTC(2026, 10, 28, 10, 0, 8) }]);
    // A #Fields: without cs-method and cs(User-Agent): those rules' parts pass.
    expect(index.lastUsers('/news/today.aspx')).toEqual([{ user: '203.0.113.9', ts: Date.UTC(2026, 10, 28, 10, 10) }]);
  });

  it('applies the view rules to IIS lines: cs-method, and cs(User-Agent) with + for spaces', () => {
    const index = openIndex({ userWindow: '7d' });
    index.ingest(iis, { format: 'w3c' });
    // Googlebot and bingbot (their agents hold '+' for spaces), an agent '-', robots.txt.
    expect(index.lastUsers('/products/list.aspx')).toEqual([{ user: '203.0.113.9', ts: Date.UTC(2026, 10, 28, 10, 0, 1) }]);
    expect(index.lastUsers('/default.aspx').map((r) => r.user)).toEqual(['203.0.113.9']);
    expect(index.lastUsers('/products/item.aspx')).toEqual([]);
    expect(index.lastUsers('/robots.txt')).toEqual([]);
    // HEAD and POST are not page views; a stylesheet and an image are static.
    expect(index.lastUsers('/reports/q4.aspx')).toEqual([]);
    expect(index.lastUsers('/login.aspx')).toEqual([]);
    expect(index.lastUsers('/css/site.css')).toEqual([]);
    // The options apply to w3c: with every rule off, every sound line counts.
    const all = { methods: 'any', ignoreStatic: false, ignoreCrawlers: false } as const;
    expect(checkAgainstReference(iis, referenceW3c(iis, false, all), { format: 'w3c', ...all })).toMatchObject({ accepted: 18 });
    const widened = { methods: ['GET', 'HEAD'], crawlers: ['bingbot'] } as const;
    expect(checkAgainstReference(iis, referenceW3c(iis, false, widened), { format: 'w3c', ...widened })).toMatchObject({ accepted: 10, reasons: { crawler: 4 } });
  });

  it('keeps cs-uri-query with keepQuery, and takes the user list it is given', () => {
    checkAgainstReference(iis, referenceW3c(iis, true), { format: 'w3c', keepQuery: true });
    const index = openIndex({ userWindow: '7d' });
    index.ingest(iis, { format: 'w3c', keepQuery: true, user: 'c-ip' });
    expect(index.lastUsers('/products/list.aspx?cat=3&page=2')).toEqual([{ user: '203.0.113.9', ts: Date.UTC(2026, 10, 28, 10, 0, 1) }]);
    expect(index.lastUsers('/account/orders.aspx?id=17')).toEqual([{ user: '198.51.100.23', ts: Date.UTC(2026, 10, 28, 10, 0, 5) }]);
  });

  it("reads CloudFront's tab-separated standard log", () => {
    const report = checkAgainstReference(cloudfront, referenceW3c(cloudfront), { format: 'w3c' });
    expect(report).toMatchObject({ accepted: 3, reasons: { filtered: 3, malformed: 1, method: 3, static: 1, crawler: 4 } });
    const index = openIndex({ userWindow: '7d' });
    index.ingest(cloudfront, { format: 'w3c', user: 'x-forwarded-for|c-ip' });
    // bingbot's agent double-encoded (%2520), HEAD and OPTIONS: not views.
    expect(index.lastUsers('/index.html').map((r) => r.user).sort()).toEqual(['198.51.100.1', '203.0.113.77']);
    // Googlebot (%20 for spaces) and curl/ are crawlers.
    expect(index.lastUsers('/docs/start.html')).toEqual([{ user: '198.51.100.1', ts: Date.UTC(2026, 10, 28, 10, 0, 1) }]);
    expect(index.lastUsers('/api/subscribe')).toEqual([]);
    expect(index.lastUsers('/assets/app.js')).toEqual([]);
    expect(index.lastUsers('/about.html')).toEqual([]); // agent '-'
  });

  it("matches crawler tokens against the agent as the browser sent it (IIS '+', CloudFront %20 and %2520)", () => {
    const index = openIndex({ userWindow: '7d' });
    const fields = '#Fields: date time c-ip cs-method cs-uri-stem cs(User-Agent)';
    const iisLine = (ip: string, agent: string) => `2026-11-28 10:00:00 ${ip} GET /a ${agent}`;
    const cfLine = (ip: string, agent: string) => ['2026-11-28', '10:00:00', ip, 'GET', '/a', agent].join('\t');
    const rules = { crawlers: ['Yahoo! Slurp', '+http://example.com/monitor'] } as const;
    const options = { format: 'w3c', ...rules } as const;
    const iisText = [fields, iisLine('1.1.1.1', 'Mozilla/5.0+(compatible;+Yahoo!+Slurp)'), iisLine('1.1.1.2', 'Mon/1.0+(++http://example.com/monitor)'), iisLine('1.1.1.3', 'Mozilla/5.0+(X11)')].join('\n');
    const cfText = [fields, cfLine('2.2.2.1', 'Mozilla/5.0%20(compatible;%20Yahoo!%20Slurp)'), cfLine('2.2.2.2', 'Mozilla/5.0%2520(compatible;%2520Yahoo!%2520Slurp)'), cfLine('2.2.2.3', 'Mozilla/5.0%20(X11)')].join('\n');
    for (const text of [iisText, cfText]) {
      expect(checkAgainstReference(text, referenceW3c(text, false, rules), options)).toMatchObject({ accepted: 1, reasons: { crawler: 2 } });
    }
    index.ingest(iisText, options);
    index.ingest(cfText, options);
    expect(index.lastUsers('/a').map((r) => r.user).sort()).toEqual(['1.1.1.3', '2.2.2.3']);
  });

  it('rejects data lines before any #Fields: as no-fields, with samples', () => {
    const text = ['2026-11-28 10:00:00 1.2.3.4 GET /a - 200', '#Fields: time cs-uri-stem c-ip', '10:00:00 /a 1.2.3.4', '#Fields: date time c-ip cs-uri-stem', '2026-11-28 10:00:00 1.2.3.4 /a'].join('\n');
    const index = openIndex();
    const report = index.ingest(text, { format: 'w3c' });
    expect(report).toMatchObject({ lines: 5, accepted: 1, rejected: 4, reasons: { 'no-fields': 3, filtered: 1 } });
    expect(report.samples.map((s) => [s.line, s.reason])).toEqual([[1, 'no-fields'], [2, 'no-fields'], [3, 'no-fields']]);
    expect(checkAgainstReference(text, referenceW3c(text), { format: 'w3c' }).accepted).toBe(1);
  });

  it('drops a BOM, applies statuses and maxFutureSkew like every format', () => {
    const now = Date.UTC(2026, 10, 28, 12);
    const index = openIndex({ maxFutureSkew: '10m', now: () => now });
    const future = new Date(now + 3_600_000).toISOString();
    const text = `\uFEFF#Fields: date time c-ip cs-uri-stem sc-status\n2026-11-28 10:00:00 1.2.3.4 /a 200\n2026-11-28 10:00:00 1.2.3.4 /b 500\n${future.slice(0, 10)} ${future.slice(11, 19)} 1.2.3.4 /c 200`;
    const report = index.ingest(text, { format: 'w3c', statuses: [200] });
    expect(report).toMatchObject({ lines: 4, accepted: 1, reasons: { filtered: 2, future: 1 } });
    expect(index.lastUsers('/a')).toEqual([{ user: '1.2.3.4', ts: Date.UTC(2026, 10, 28, 10) }]);
  });

  it('matches field names in any case, and takes the user from a custom field or cs(Header), first address of a forwarded list', () => {
    // IIS custom logging writes the name given (X-Forwarded-For); "#Fields:" names in any case.
    const log = [
      '#Fields: DATE Time C-IP cs-method CS-URI-STEM sc-status X-Forwarded-For',
      '2026-11-28 10:00:01 10.0.0.5 GET /x1 200 198.51.100.1,+10.0.0.5',
      '2026-11-28 10:00:02 10.0.0.5 GET /x2 200 unknown,+10.0.0.9', // Squid: next entry, c-ip
      '2026-11-28 10:00:03 10.0.0.5 GET /x3 200 -',
      '#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(X-Forwarded-For) cs(X-Client-Id)',
      '2026-11-28 10:00:04 10.0.0.6 GET /x4 200 198.51.100.4,10.0.0.6 client-4',
    ].join('\n');
    for (const user of ['x-forwarded-for|cs(x-forwarded-for)|c-ip', 'X-Forwarded-For|CS(X-Forwarded-For)|C-IP']) {
      const index = openIndex({ userWindow: '7d' });
      expect(index.ingest(log, { format: 'w3c', user, methods: 'any', ignoreCrawlers: false })).toMatchObject({ accepted: 4, reasons: { filtered: 2 } });
      expect(['/x1', '/x2', '/x3', '/x4'].map((page) => index.lastUsers(page)[0]?.user)).toEqual(['198.51.100.1', '10.0.0.5', '10.0.0.5', '198.51.100.4']);
      index.close();
    }
    const index = openIndex({ userWindow: '7d' });
    index.ingest(log, { format: 'w3c', user: 'cs(X-Client-Id)|c-ip', methods: 'any', ignoreCrawlers: false });
    expect(['/x1', '/x4'].map((page) => index.lastUsers(page)[0]?.user)).toEqual(['10.0.0.5', 'client-4']);
  });

  it('checks the user list when the options are read', () => {
    const index = openIndex();
    expect(() => index.ingest('', { format: 'w3c', user: 'c-ip|cs(Cookie)' })).toThrow(/^options\.user: user cs\(Cookie\) is not a W3C field/);
    expect(() => index.ingest('', { format: 'w3c', user: 'c-ip|c-ip' })).toThrow(RangeError);
    expect(() => index.ingest('', { format: 'w3c', user: 'c-ip|C-IP' })).toThrow(RangeError);
    expect(() => index.ingest('', { format: 'w3c', user: 'sc-status' })).toThrow(/^options\.user: user sc-status is not a W3C field/);
    expect(() => index.ingest('', { format: 'w3c', user: 'time-taken|c-ip' })).toThrow(RangeError);
    expect(() => index.ingest('', { format: 'w3c', fields: { user: 'u' } })).toThrow(/options\.fields does not apply to format 'w3c'/);
  });
});

describe("format: 'alb'", () => {
  const alb = fixture('alb.log');

  it('reads ALB access log entries as the reference does', () => {
    const report = checkAgainstReference(alb, referenceAlb(alb), { format: 'alb' });
    expect(report).toMatchObject({ lines: 14, accepted: 4, reasons: { filtered: 3, malformed: 1, method: 2, static: 1, crawler: 3 } });
    const index = openIndex({ userWindow: '7d' });
    index.ingest(alb, { format: 'alb' });
    // The client address without its port; the path of the absolute-form target; the
    // time is request_creation_time. Not views: a POST, a HEAD, Googlebot and an agent
    // '-' on the same page.
    expect(index.lastUsers('/docs/start')).toEqual([
      { user: '2001:db8::9', ts: Date.UTC(2026, 10, 28, 10, 0, 2, 998) },
      { user: '203.0.113.7', ts: Date.UTC(2026, 10, 28, 10, 0, 1, 712) },
    ]);
    // AWS's own example line is curl's: a crawler.
    expect(index.lastUsers('/')).toEqual([]);
    expect(index.lastUsers('/static/site.css')).toEqual([]);
    expect(index.lastUsers('/pricing')).toEqual([{ user: '203.0.113.7', ts: Date.UTC(2026, 10, 28, 10, 0, 8, 590) }]);
    const all = { methods: 'any', ignoreStatic: false, ignoreCrawlers: false } as const;
    expect(checkAgainstReference(alb, referenceAlb(alb, all), { format: 'alb', ...all })).toMatchObject({ accepted: 10 });
  });

  it('has no user option', () => {
    expect(() => openIndex().ingest('', { format: 'alb', user: 'client' })).toThrow(/options\.user does not apply to format 'alb'/);
  });
});

describe('skiptrail replay --format w3c|alb', () => {
  it('reads both', async () => {
    const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'skiptrail-w3c-'));
    try {
      const w3c = await runCli(['replay', path.join(import.meta.dirname, 'fixtures', 'iis_w3c.log'), '--format', 'w3c', '--last-users', '/default.aspx', '--json', '--quiet']);
      expect(w3c.code).toBe(0);
      expect(JSON.parse(w3c.stdout).lastUsers['/default.aspx']).toEqual([{ user: '203.0.113.9', ts: Date.UTC(2026, 10, 28, 10, 5) }]);
      const alb = await runCli(['replay', path.join(import.meta.dirname, 'fixtures', 'alb.log'), '--format', 'alb', '--last-users', '/', '--json', '--quiet']);
      expect(alb.code).toBe(0);
      expect(JSON.parse(alb.stdout).lastUsers['/']).toEqual([]); // curl: a crawler
      const counted = await runCli(['replay', path.join(import.meta.dirname, 'fixtures', 'alb.log'), '--format', 'alb', '--count-crawlers', '--methods', 'GET,HEAD', '--last-users', '/', '--json', '--quiet']);
      expect(counted.code).toBe(0);
      expect(JSON.parse(counted.stdout).lastUsers['/']).toEqual([{ user: '192.168.131.39', ts: Date.UTC(2026, 10, 28, 10) }]);
      expect(JSON.parse(counted.stdout).report).toMatchObject({ accepted: 8, reasons: { static: 1 } });
      const bad = await runCli(['replay', path.join(import.meta.dirname, 'fixtures', 'alb.log'), '--format', 'elb', '--quiet']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--format must be .*w3c or alb/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a line made from random values', () => {
  const userArb = fc.stringMatching(/^[a-zA-Z0-9.:_\\-]{1,16}$/).filter((u) => u !== '-');
  const pageArb = fc.stringMatching(/^\/[a-zA-Z0-9/._~%-]{0,20}$/);
  const queryArb = fc.option(fc.stringMatching(/^[a-z0-9=&]{1,10}$/), { nil: undefined });
  const tsArb = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2026, 10, 28) }).map((ms) => Math.floor(ms / 1000) * 1000);
  const rowArb = fc.record({ user: userArb, page: pageArb, query: queryArb, ts: tsArb, status: fc.constantFrom('200', '204', '301', '304') });
  const mutationsArb = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 });

  const mutate = (text: string, mutations: [number, number][]) => {
    const bytes = Buffer.from(text);
    for (const [at, byte] of mutations) if (bytes.length > 0) bytes[at % bytes.length] = byte;
    return bytes;
  };

  it('w3c: any field order and separator parses back exactly; mutations keep lines = accepted + rejected', () => {
    const names = ['date', 'time', 'c-ip', 'cs-method', 'cs-uri-stem', 'cs-uri-query', 'sc-status', 'cs(User-Agent)'];
    fc.assert(
      fc.property(fc.shuffledSubarray(names, { minLength: names.length }), fc.constantFrom(' ', '\t'), fc.array(rowArb, { minLength: 1, maxLength: 6 }), mutationsArb, (order, sep, rows, mutations) => {
        const value = (name: string, r: (typeof rows)[number]) => {
          const iso = new Date(r.ts).toISOString();
          return { date: iso.slice(0, 10), time: iso.slice(11, 19), 'c-ip': r.user, 'cs-method': 'GET', 'cs-uri-stem': r.page, 'cs-uri-query': r.query ?? '-', 'sc-status': r.status, 'cs(User-Agent)': 'Mozilla/5.0+(X11)' }[name]!;
        };
        const text = [`#Fields: ${order.join(' ')}`, ...rows.map((r) => order.map((n) => value(n, r)).join(sep))].join('\n');
        const index = openIndex({ userWindow: '100000d' });
        const report = index.ingest(text, { format: 'w3c', keepQuery: true, ignoreStatic: false });
        expect(report).toMatchObject({ lines: rows.length + 1, accepted: rows.length, rejected: 1, reasons: { filtered: 1 } });
        const views = rows.map((r) => ({ user: r.user, page: r.query === undefined ? r.page : `${r.page}?${r.query}`, ts: r.ts }));
        for (const v of views) expect(index.lastUsers(v.page, 30)).toContainEqual({ user: v.user, ts: latest(views, v) });
        const mutated = index.ingest(mutate(text, mutations), { format: 'w3c' });
        expect(mutated.lines).toBe(mutated.accepted + mutated.rejected);
      }),
      { numRuns: 100 },
    );
  });

  it('alb: random values parse back exactly; mutations keep lines = accepted + rejected', () => {
    const ipArb = fc.oneof(fc.ipV4(), fc.ipV6().map((ip) => `[${ip}]`));
    fc.assert(
      fc.property(fc.array(fc.record({ row: rowArb, ip: ipArb, port: fc.integer({ min: 1, max: 65535 }), agent: fc.stringMatching(/^[ -!#-[\]-~]{0,30}$/) }), { minLength: 1, maxLength: 6 }), mutationsArb, (rows, mutations) => {
        const line = ({ row, ip, port, agent }: (typeof rows)[number]) => {
          const iso = new Date(row.ts).toISOString().replace('Z', '123Z');
          const target = `https://www.example.com:443${row.page}${row.query === undefined ? '' : `?${row.query}`}`;
          return `https ${iso} app/lb/50dc6c495c0c9188 ${ip}:${port} 10.0.0.1:80 0.001 0.002 0.000 ${row.status} ${row.status} 10 20 "GET ${target} HTTP/1.1" "${agent}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2 "Root=1-5833" "www.example.com" "-" 1 ${iso} "forward" "-" "-" "10.0.0.1:80" "${row.status}" "-" "-" TID_1`;
        };
        const text = rows.map(line).join('\n');
        const index = openIndex({ userWindow: '100000d' });
        const report = index.ingest(text, { format: 'alb', ignoreStatic: false, ignoreCrawlers: false });
        expect(report).toMatchObject({ lines: rows.length, accepted: rows.length });
        // Under the default rules a random agent may be a crawler's: as the reference says.
        expect(openIndex({ userWindow: '100000d' }).ingest(text, { format: 'alb' }).accepted).toBe(referenceAlb(text).filter((r) => 'view' in r).length);
        const views = rows.map(({ row, ip }) => ({ user: ip.replace(/^\[(.*)\]$/, '$1'), page: row.page, ts: row.ts }));
        for (const v of views) expect(index.lastUsers(v.page, 30)).toContainEqual({ user: v.user, ts: latest(views, v) });
        const mutated = index.ingest(mutate(text, mutations), { format: 'alb' });
        expect(mutated.lines).toBe(mutated.accepted + mutated.rejected);
        expect(referenceAlb(text, { ignoreStatic: false, ignoreCrawlers: false }).every((r) => 'view' in r)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
