// Issue 14: faults found with public bug reports of log tools, and healthy lines the
// docs used to call malformed. Each case is one input of a kind, with its right value.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { follow } from '../src/sources/index.js';
import { openIndex } from './helpers.js';
import { combinedLine, runCli, startServe, tempDir, waitFor } from './live-helpers.js';

const T = Date.UTC(2020, 0, 1);

describe('the request line is checked as a whole (method, target, protocol)', () => {
  it('rejects a request whose target holds a space and has no protocol', () => {
    const index = openIndex();
    const report = index.ingest('1 - - [01/Jan/2020:00:00:00 +0000] "GET /a b" 200 1\n');
    expect(report).toMatchObject({ lines: 1, accepted: 0, reasons: { malformed: 1 } });
    expect(index.lastUsers('/a')).toEqual([]);
  });

  it('accepts HTTP/1.0, HTTP/1.1, HTTP/2 and HTTP/2.0, and no protocol at all (HTTP/0.9)', () => {
    const index = openIndex();
    const lines = ['HTTP/1.0', 'HTTP/1.1', 'HTTP/2', 'HTTP/2.0', '']
      .map((protocol, i) => `u${i} - - [01/Jan/2020:00:00:00 +0000] "GET /a${protocol ? ` ${protocol}` : ''}" 200 1\n`)
      .join('');
    expect(index.ingest(lines)).toMatchObject({ lines: 5, accepted: 5 });
  });

  it.each(['GET /a b HTTP/1.1', 'GET /a HTTP', 'GET /a HTTP/', 'GET /a HTTP/1.', 'GET /a http/1.1', 'GET /a HTTP/1.1 x', 'GET /a HTTP/x'])(
    'rejects %j as malformed',
    (request) => {
      const index = openIndex();
      expect(index.ingest(`1 - - [01/Jan/2020:00:00:00 +0000] "${request}" 200 1\n`)).toMatchObject({ reasons: { malformed: 1 } });
    },
  );
});

describe('a UTF-8 byte-order mark at the start of a line is not data', () => {
  const BOM = '\uFEFF';

  it('combined: the user key does not start with U+FEFF', () => {
    const index = openIndex();
    const report = index.ingest(Buffer.from(`${BOM}1 - - [01/Jan/2020:00:00:00 +0000] "GET /a HTTP/1.1" 200 1\n`));
    expect(report).toMatchObject({ lines: 1, accepted: 1 });
    expect(index.userPages('1', { now: T })).toEqual([{ page: '/a', ts: T }]);
  });

  it('ndjson: the first line is accepted', () => {
    const index = openIndex();
    const report = index.ingest(`${BOM}{"user":"u","page":"/a","ts":${T}}\n`, { format: 'ndjson' });
    expect(report).toMatchObject({ lines: 1, accepted: 1 });
    expect(index.lastUsers('/a')).toEqual([{ user: 'u', ts: T }]);
  });

  it('common, at the start of any line (files concatenated with cat)', () => {
    const index = openIndex();
    const line = (user: string) => `${BOM}${user} - - [01/Jan/2020:00:00:00 +0000] "GET /a HTTP/1.1" 200 1\n`;
    expect(index.ingest(line('x') + line('y'), { format: 'common' })).toMatchObject({ accepted: 2 });
    expect(index.lastUsers('/a').map((row) => row.user).sort()).toEqual(['x', 'y']);
  });

  it('is data anywhere else: a BOM inside a page is kept', () => {
    const index = openIndex();
    index.ingest(`1 - - [01/Jan/2020:00:00:00 +0000] "GET /a${BOM} HTTP/1.1" 200 1\n`);
    expect(index.lastUsers(`/a${BOM}`)).toHaveLength(1);
  });
});

describe('times are accepted only within the range a Date can print', () => {
  const MAX = 8.64e15;

  it('accepts 8.64e15 ms (the last Date) and rejects one ms more as bad-time', () => {
    const index = openIndex({ maxFutureSkew: Infinity }); // far-future times are the point here
    const report = index.ingest(`{"user":"u","page":"/a","ts":${MAX}}\n{"user":"u","page":"/b","ts":${MAX + 1}}\n`, { format: 'ndjson' });
    expect(report).toMatchObject({ lines: 2, accepted: 1, reasons: { 'bad-time': 1 } });
    expect(index.lastUsers('/a')).toEqual([{ user: 'u', ts: MAX }]);
  });

  it('accepts 0 (the epoch) and rejects -1', () => {
    const index = openIndex();
    const report = index.ingest('{"user":"u","page":"/a","ts":0}\n{"user":"u","page":"/b","ts":-1}\n', { format: 'ndjson' });
    expect(report).toMatchObject({ lines: 2, accepted: 1, reasons: { 'bad-time': 1 } });
  });

  it('skiptrail replay prints the answers of a file holding a time beyond the range', async () => {
    const file = path.join(tempDir(), 'events.ndjson');
    fs.writeFileSync(file, `{"user":"u","page":"/a","ts":8640000000000001}\n{"user":"u","page":"/a","ts":${T}}\n`);
    const result = await runCli(['replay', file, '--format', 'ndjson', '--last-users', '/a', '--quiet']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('bad-time 1');
    expect(result.stdout).toContain(new Date(T).toISOString());
  });
});

describe("follow() after copytruncate by a writer that does not append", () => {
  it('skips the NUL hole and counts it, indexing the first new line', async () => {
    const file = path.join(tempDir(), 'access.log');
    const writer = fs.openSync(file, 'w'); // no O_APPEND: writes go on at the old offset
    const index = openIndex();
    const follower = follow(index, file, { from: 'start', pollInterval: 60_000 });
    try {
      const first = combinedLine('10.0.0.1', '/first', T);
      fs.writeSync(writer, first);
      await follower.poll();
      fs.truncateSync(file, 0);
      fs.writeSync(writer, combinedLine('10.0.0.2', '/second', T + 1000));
      await follower.poll();
      expect(follower.report).toMatchObject({ lines: 2, accepted: 2, rejected: 0 });
      expect(follower.stats()).toMatchObject({ truncations: 1, skippedNulBytes: Buffer.byteLength(first) });
      expect(index.lastUsers('/second')).toEqual([{ user: '10.0.0.2', ts: T + 1000 }]);
    } finally {
      fs.closeSync(writer);
      await follower.close();
    }
  });

  it('keeps NUL bytes after the first data byte: they are a corrupt line, not a hole', async () => {
    const file = path.join(tempDir(), 'access.log');
    fs.writeFileSync(file, combinedLine('a', '/x', T));
    const index = openIndex();
    const follower = follow(index, file, { from: 'start', pollInterval: 60_000 });
    try {
      await follower.poll();
      fs.writeFileSync(file, Buffer.concat([Buffer.alloc(3), Buffer.from(combinedLine('b', '/y', T)), Buffer.from('\0\0junk\n')]));
      await follower.poll();
      expect(follower.report).toMatchObject({ lines: 3, accepted: 2, reasons: { malformed: 1 } });
      expect(follower.stats().skippedNulBytes).toBe(3);
    } finally {
      await follower.close();
    }
  });
});

describe('HTTP now= names one instant on every server', () => {
  it('reads an ISO time with Z or an offset the same under TZ=America/Los_Angeles, and refuses one without', async () => {
    const file = path.join(tempDir(), 'access.log');
    const ts = Date.UTC(2026, 10, 30, 10, 0, 0);
    fs.writeFileSync(file, combinedLine('10.0.0.1', '/a', ts));
    const saved = process.env.TZ;
    process.env.TZ = 'America/Los_Angeles';
    let served;
    try {
      served = await startServe(['--follow', file, '--from', 'start', '--poll-interval', '50ms']);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    await waitFor(async () => (await served.get('/stats')).body.ingest.lines, (lines) => lines === 1, { what: 'the line' });
    const pages = { user: '10.0.0.1', pages: [{ page: '/a', ts }] };
    for (const now of ['2026-11-30T10:00:30Z', '2026-11-30T02:00:30-08:00', '2026-11-30T11:00:30+0100', '2026-11-30T10:00:30.999z', String(ts + 30_000)]) {
      const response = await served.get(`/users/10.0.0.1/pages?window=1m&now=${encodeURIComponent(now)}`);
      expect({ now, status: response.status, body: response.body }).toEqual({ now, status: 200, body: pages });
    }
    // Typed into a URL unescaped, the offset's '+' arrives as a space: read as '+'.
    const unescaped = await served.get('/users/10.0.0.1/pages?window=1m&now=2026-11-30T11:00:30+01:00');
    expect({ status: unescaped.status, body: unescaped.body }).toEqual({ status: 200, body: pages });
    for (const now of ['2026-11-30T10:00:30', '2026-11-30', '2026-02-30T10:00:00Z', '2026-11-30T24:00:00Z', '2026-11-30T10:00:00+15:00', 'Mon, 30 Nov 2026 10:00:30 GMT']) {
      const response = await served.get(`/users/10.0.0.1/pages?window=1m&now=${encodeURIComponent(now)}`);
      expect({ now, status: response.status }).toEqual({ now, status: 400 });
      expect(response.body.error).toMatch(/^now must be milliseconds since the epoch or an ISO-8601 time with Z or an offset/);
    }
    const before1970 = await served.get(`/users/10.0.0.1/pages?now=${encodeURIComponent('1969-12-31T23:59:59Z')}`);
    expect(before1970.status).toBe(400);
    expect(await served.stop()).toBe(0);
  });
});

describe('healthy lines the docs used to call malformed', () => {
  it('reads a logged-in user name with a space', () => {
    const index = openIndex();
    const line = '10.0.0.1 - John Smith [24/Mar/2021:18:14:04 -0300] "GET /h HTTP/1.1" 200 381\n';
    expect(index.ingest(line, { user: 'authuser' })).toMatchObject({ lines: 1, accepted: 1 });
    expect(index.lastUsers('/h')).toEqual([{ user: 'John Smith', ts: Date.UTC(2021, 2, 24, 21, 14, 4) }]);
    expect(openIndex().ingest(line)).toMatchObject({ accepted: 1 });
  });

  it("filters Apache's OPTIONS * internal dummy connection instead of calling it corrupt", () => {
    const index = openIndex();
    const report = index.ingest(
      '::1 - - [24/Mar/2021:18:14:04 +0000] "OPTIONS * HTTP/1.0" 200 126 "-" "Apache/2.4.41 (Ubuntu) (internal dummy connection)"\n' +
        '::1 - - [24/Mar/2021:18:14:04 +0000] "GET * HTTP/1.0" 200 126\n',
    );
    expect(report).toMatchObject({ lines: 2, accepted: 0, reasons: { filtered: 1, malformed: 1 } });
    expect(report.samples.map((s) => s.reason)).toEqual(['malformed']);
  });

  describe('syslog frames with { syslog: true }', () => {
    const line = '10.0.0.1 - - [24/Mar/2021:18:14:04 +0000] "GET /s HTTP/1.1" 200 1';
    const ts = Date.UTC(2021, 2, 24, 18, 14, 4);

    it.each([
      ['nginx access_log syslog: (RFC 3164)', `<190>Mar 24 18:14:04 web1 nginx: ${line}`],
      ['RFC 3164 with a pid and a space-padded day', `<134>Mar  4 08:00:00 web1 httpd[4242]: ${line}`],
      ['RFC 5424 without structured data', `<165>1 2021-03-24T18:14:04.003Z web1 nginx 4242 - - ${line}`],
      ["nginx access_log syslog:server=…,nohostname (RFC 3164 without a host)", `<190>Mar 24 18:14:04 nginx: ${line}`],
      ["rsyslog's RSYSLOG_ForwardFormat (an RFC 3339 time)", `<190>2021-03-24T18:14:04.003412+00:00 web1 nginx: ${line}`],
      ['an RFC 3339 time without a host', `<190>2021-03-24T18:14:04Z nginx[7]: ${line}`],
      ['RFC 5424 with structured data and a BOM', `<165>1 2021-03-24T18:14:04Z web1 app - ID47 [exampleSDID@32473 iut="3" eventSource="Ap\\]p"] \uFEFF${line}`],
    ])('strips %s', (_name, framed) => {
      const index = openIndex();
      expect(index.ingest(`${framed}\n`, { syslog: true })).toMatchObject({ lines: 1, accepted: 1 });
      expect(index.lastUsers('/s')).toEqual([{ user: '10.0.0.1', ts }]);
    });

    it('rejects a line without a frame as malformed, and ndjson frames work too', () => {
      const index = openIndex();
      expect(index.ingest(`${line}\n`, { syslog: true })).toMatchObject({ reasons: { malformed: 1 } });
      const json = `<14>Mar 24 18:14:04 host app: {"user":"u","page":"/j","ts":${ts}}\n`;
      expect(index.ingest(json, { syslog: true, format: 'ndjson' })).toMatchObject({ accepted: 1 });
    });

    it('is an error when not a boolean', () => {
      expect(() => openIndex().ingest('', { syslog: 'yes' as never })).toThrow(TypeError);
    });
  });

  describe('ndjson tsUnit', () => {
    const ingest = (ts: string, tsUnit?: 'ms' | 's' | 'us' | 'ns') => {
      const index = openIndex({ maxFutureSkew: Infinity }); // far-future times are the point here
      const report = index.ingest(`{"user":"u","page":"/a","ts":${ts}}\n`, { format: 'ndjson', ...(tsUnit ? { tsUnit } : {}) });
      return { report, rows: index.lastUsers('/a') };
    };

    it.each([
      ['1431857103', 's', 1431857103000],
      ['1431857103.25', 's', 1431857103250],
      ['1431857103.2509', 's', 1431857103250],
      ['1.431857103e9', 's', 1431857103000],
      ['1431857103000', 'ms', 1431857103000],
      ['1431857103000123', 'us', 1431857103000],
      ['1431857103000123456', 'ns', 1431857103000],
      ['8640000000000', 's', 8.64e15],
      ['1431857103000.5', 'ms', 1431857103000], // Caddy's unix_milli_float: a fraction in ms given explicitly
      ['1431857103000.9999', 'ms', 1431857103000],
    ] as const)('reads %s in %s as %d ms', (ts, unit, ms) => {
      expect(ingest(ts, unit).rows).toEqual([{ user: 'u', ts: ms }]);
    });

    it.each([
      ['1431857103000.5', undefined], // the default ms: a fraction is more likely seconds read as ms
      ['1431857103.25', undefined],
      ['1431857103000123.5', 'us'],
      ['-1', 's'],
      ['8640000000000.001', 's'],
      ['1e400', 'ns'],
    ] as const)('rejects %s in %s as bad-time', (ts, unit) => {
      expect(ingest(ts, unit).report).toMatchObject({ reasons: { 'bad-time': 1 } });
    });

    it('is a RangeError for an unknown unit', () => {
      expect(() => openIndex().ingest('', { format: 'ndjson', tsUnit: 'min' as never })).toThrow(/options\.tsUnit/);
    });
  });
});
