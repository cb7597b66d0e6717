import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ingestFile, ingestReadable } from '../src/sources/index.js';
import { openIndex } from './helpers.js';
import { FIXTURE, combinedLines, runCli, tempDir } from './live-helpers.js';

const BUSY_PAGE = '/'; // the busiest page once static files and crawlers are dropped

describe('ingestReadable() and ingestFile()', () => {
  it('ingest any Readable, plain or gzip, cut anywhere, and resolve with the report', async () => {
    const text = combinedLines(0, 50) + 'junk\n' + combinedLines(50, 9).trimEnd();
    const pieces = (data: Buffer) => Readable.from(Array.from({ length: Math.ceil(data.length / 7) }, (_, i) => data.subarray(i * 7, i * 7 + 7)));
    for (const data of [Buffer.from(text), zlib.gzipSync(text)]) {
      const index = openIndex();
      const report = await ingestReadable(index, pieces(data));
      expect(report).toMatchObject({ lines: 60, accepted: 59, rejected: 1, reasons: { malformed: 1 } });
      expect(index.stats().events).toBe(59);
    }
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'x.gz'), zlib.gzipSync(text));
    expect(await ingestFile(openIndex(), path.join(dir, 'x.gz'))).toMatchObject({ lines: 60, accepted: 59 });
    await expect(ingestFile(openIndex(), path.join(dir, 'missing.log'))).rejects.toThrow(/ENOENT/);
  });
});

describe('skiptrail replay', () => {
  it('ingests a log, prints the report and answers Q1, Q2 and Q3 like the library', async () => {
    const index = openIndex();
    const report = index.ingest(fs.readFileSync(FIXTURE));
    const someUser = index.lastUsers(BUSY_PAGE, 1)[0]!.user;
    const result = await runCli([
      'replay',
      FIXTURE,
      '--json',
      '--last-users',
      BUSY_PAGE,
      '--last-users',
      '/no/such/page',
      '--k',
      '5',
      '--user-pages',
      someUser,
      '--window',
      '10m',
      '--online',
      BUSY_PAGE,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.report).toEqual({ ...report, samples: [] });
    expect(out.report).toMatchObject({ lines: 10_000, accepted: 2_758, rejected: 7_242, reasons: { filtered: 220, method: 36, static: 5_348, crawler: 1_638 } });
    expect(out.files).toEqual([{ file: FIXTURE, bytes: fs.statSync(FIXTURE).size, report }]);
    expect(out.stats.events).toBe(2_758);
    expect(out.lastUsers[BUSY_PAGE]).toEqual(index.lastUsers(BUSY_PAGE, 5));
    expect(out.lastUsers['/no/such/page']).toEqual([]);
    expect(out.userPages[someUser]).toEqual(index.userPages(someUser, { window: '10m' }));
    expect(out.online[BUSY_PAGE]).toEqual({ count: index.onlineCount(BUSY_PAGE), users: index.onlineUsers(BUSY_PAGE, 5) });
    expect(out.onlineCount).toBe(index.onlineCount());
  });

  it('prints a readable summary by default', async () => {
    const result = await runCli(['replay', FIXTURE, '--last-users', BUSY_PAGE, '--k', '2']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^read 10,000 lines from 1 file \(2\.\d MiB\) in [\d.]+ s, [\d,]+ lines\/s$/m);
    expect(result.stdout).toContain('accepted 2,758, rejected 7,242, late 0');
    expect(result.stdout).toContain('rejected by reason: filtered 220, method 36, static 5,348, crawler 1,638');
    expect(result.stdout).not.toMatch(/warning/);
    expect(result.stdout).toContain(`last users of ${BUSY_PAGE} (k=2): 2`);
  });

  it('reads gzip files by their magic bytes or .gz name, several files in order, and standard input', async () => {
    const dir = tempDir();
    const plain = fs.readFileSync(FIXTURE);
    fs.writeFileSync(path.join(dir, 'a.log.gz'), zlib.gzipSync(plain));
    fs.writeFileSync(path.join(dir, 'b.log'), zlib.gzipSync(plain.subarray(0, 1000))); // gzip without the name
    fs.writeFileSync(path.join(dir, 'c.log'), 'garbage line\n' + combinedLines(0, 3));
    const result = await runCli(['replay', 'a.log.gz', 'b.log', 'c.log', '-', '--json'], { cwd: dir, input: combinedLines(3, 2) });
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout);
    const lines = out.files.map((file: { report: { lines: number } }) => file.report.lines);
    const firstLines = plain.subarray(0, 1000).toString().split('\n').length; // 4 whole lines and a cut one
    expect(lines).toEqual([10_000, firstLines, 4, 2]);
    expect(out.report.lines).toBe(10_000 + firstLines + 4 + 2);
    expect(out.report.lines).toBe(out.report.accepted + out.report.rejected);
    expect(out.report.samples[0]).toMatchObject({ file: 'b.log', reason: 'malformed' });
    expect(out.report.samples).toContainEqual({ file: 'c.log', line: 1, reason: 'malformed', text: 'garbage line' });
  });

  it('passes the log format options on', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'e.ndjson'), '{"uid":"a","url":"/x","ts":1}\n{"uid":"b","url":"/x","ts":2}\n');
    const result = await runCli(
      ['replay', 'e.ndjson', '--format', 'ndjson', '--fields', 'user=uid,page=url', '--last-users', '/x', '--json'],
      { cwd: dir },
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).lastUsers['/x']).toEqual([
      { user: 'b', ts: 2 },
      { user: 'a', ts: 1 },
    ]);
  });

  it('writes plurals right and hints at --format on stderr when most lines are unreadable', async () => {
    const dir = tempDir();
    const one = path.join(dir, 'one.log');
    fs.writeFileSync(one, combinedLines(0, 1));
    const single = await runCli(['replay', one]);
    expect(single.stdout).toMatch(/^read 1 line from 1 file /m);
    expect(single.stderr).not.toContain('warning');
    const ndjson = path.join(dir, 'views.ndjson');
    fs.writeFileSync(ndjson, Array.from({ length: 10 }, (_, i) => `{"user":"u${i}","page":"/p","ts":${1431857103000 + i}}\n`).join(''));
    const wrong = await runCli(['replay', ndjson]);
    expect(wrong.code).toBe(0);
    expect(wrong.stderr).toContain(
      'skiptrail replay: warning: 10 of 10 lines were rejected as unreadable (see "rejected by reason"); is the log in another format? Try --format common or ndjson',
    );
    const right = await runCli(['replay', ndjson, '--format', 'ndjson']);
    expect(right.stdout).toMatch(/^accepted 10, rejected 0/m);
    expect(right.stderr).not.toContain('warning');
  });

  it('exits 1 when a file cannot be read, before ingesting anything', async () => {
    const result = await runCli(['replay', FIXTURE, '/no/such/file.log']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^skiptrail replay: cannot read \/no\/such\/file\.log: .*ENOENT/);
  });

  it('exits 1 on a corrupt gzip file', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'bad.gz'), Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]));
    const result = await runCli(['replay', 'bad.gz'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot read bad\.gz/);
  });

  it.each([
    [['replay'], /no file given/],
    [['replay', FIXTURE, '--bogus'], /unknown flag --bogus$/m],
    [['replay', FIXTURE, '--usr-window', '5m'], /unknown flag --usr-window \(did you mean --user-window\?\)/],
    [['replay', FIXTURE, '--last-user', '/'], /unknown flag --last-user \(did you mean --last-users\?\)/],
    [['replay', FIXTURE, '--user-window', '30'], /--user-window needs a unit: 30s, 30m, 30h, 30d or 30ms/],
    [['replay', FIXTURE, '--user-pages', 'u', '--window', '5'], /--window needs a unit/],
    [['replay', FIXTURE, '--format', 'ndjson', '--statuses', '200'], /--statuses does not apply to format 'ndjson'/],
    [['replay', FIXTURE, '--fields', 'user=uid'], /--fields does not apply to format 'combined'/],
    [['replay', FIXTURE, '--k', '0', '--last-users', '/'], /--k must be an integer in 1 \.\. 30/],
    [['replay', FIXTURE, '--k', 'many'], /--k must be a whole number, received "many"/],
    [['replay', FIXTURE, '--format', 'xml'], /--format must be combined, common, ndjson, vhost_combined, caddy, traefik, w3c or alb/],
    [['replay', FIXTURE, '--user', 'nobody'], /--user must be host, authuser or authuser\|host/],
    [['replay', FIXTURE, '--user-window', 'soon'], /--user-window must be a duration/],
    [['replay', FIXTURE, '--users-per-page', '0'], /--users-per-page must be an integer in 1 \.\. 100000/],
    [['replay', FIXTURE, '--statuses', '2xx'], /--statuses must be a range/],
    [['replay', FIXTURE, '--user-pages', 'u', '--window', '2h'], /--window must be at most userWindow/],
    [['replay', FIXTURE, '--max-line-bytes', '0'], /--max-line-bytes must be an integer in 1/],
  ])('exits 2 on a usage error: %j', { concurrent: true }, async (args, message) => {
    const result = await runCli(args as string[]);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain("Try 'skiptrail replay --help'.");
    expect(result.stdout).toBe('');
    expect(result.code).toBe(2);
  });
});

describe('skiptrail', () => {
  it('prints help for itself and each command, exit 0', async () => {
    for (const [args, heading] of [
      [['--help'], 'Usage: skiptrail <command>'],
      [['replay', '--help'], 'Usage: skiptrail replay'],
      [['serve', '--help'], 'Usage: skiptrail serve'],
      [['serve', '--bogus', '-h'], 'Usage: skiptrail serve'],
      [['help', 'serve'], 'Usage: skiptrail serve'],
    ] as const) {
      const result = await runCli([...args]);
      expect(result.code).toBe(0);
      expect(result.stdout.startsWith(heading)).toBe(true);
      expect(result.stdout).toMatch(/Exit status: 0 .*, 1 .*, 2 .*/s);
    }
  });

  it('prints its version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 without a command or with an unknown one', async () => {
    expect((await runCli([])).code).toBe(2);
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
  });
});
