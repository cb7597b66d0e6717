// maxFutureSkew in every format and preset (issue 14, item 6): a line dated later than
// the wall clock + maxFutureSkew is 'future', whatever parsed it, through ingest() and a
// stream cut into small chunks alike (docs/semantics.md, "Future-dated events").
import { describe, expect, it } from 'vitest';
import type { IngestOptions } from '../src/index.js';
import { openIndex } from './helpers.js';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const MINUTE = 60_000;
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (n: number) => String(n).padStart(2, '0');
const clf = (ts: number) => {
  const d = new Date(ts);
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
};
const iso = (ts: number) => new Date(ts).toISOString();

/** Each format with a header (lines before the data) and a line of a view at `ts`. */
const FORMATS: [string, IngestOptions, string, (ts: number) => string][] = [
  ['combined', {}, '', (ts) => `10.0.0.1 - - [${clf(ts)}] "GET /a HTTP/1.1" 200 1 "-" "${BROWSER}"`],
  ['common', { format: 'common' }, '', (ts) => `10.0.0.1 - - [${clf(ts)}] "GET /a HTTP/1.1" 200 1`],
  ['vhost_combined', { format: 'vhost_combined' }, '', (ts) => `example.com:443 10.0.0.1 - - [${clf(ts)}] "GET /a HTTP/1.1" 200 1 "-" "${BROWSER}"`],
  ['an Apache LogFormat with %{msec}t', { format: { apache: '%h %{msec}t "%r" %>s "%{User-Agent}i"' } }, '', (ts) => `10.0.0.1 ${ts} "GET /a HTTP/1.1" 200 "${BROWSER}"`],
  ['an nginx log_format with $time_iso8601', { format: { nginx: '$remote_addr [$time_iso8601] "$request" $status "$http_user_agent"' } }, '', (ts) => `10.0.0.1 [${iso(ts).replace('.000Z', '+00:00')}] "GET /a HTTP/1.1" 200 "${BROWSER}"`],
  ['ndjson', { format: 'ndjson' }, '', (ts) => JSON.stringify({ user: '10.0.0.1', page: '/a', ts })],
  [
    'caddy',
    { format: 'caddy' },
    '',
    (ts) => JSON.stringify({ ts: ts / 1000, request: { client_ip: '10.0.0.1', method: 'GET', uri: '/a', headers: { 'User-Agent': [BROWSER] } }, status: 200 }),
  ],
  [
    'traefik',
    { format: 'traefik' },
    '',
    (ts) => JSON.stringify({ ClientHost: '10.0.0.1', DownstreamStatus: 200, RequestMethod: 'GET', RequestPath: '/a', StartUTC: iso(ts), 'request_User-Agent': BROWSER }),
  ],
  [
    'w3c (IIS)',
    { format: 'w3c' },
    '#Software: Microsoft Internet Information Services 10.0\n#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)\n',
    (ts) => `${iso(ts).slice(0, 10)} ${iso(ts).slice(11, 19)} 10.0.0.1 GET /a 200 ${BROWSER.replaceAll(' ', '+')}`,
  ],
  [
    'w3c (CloudFront)',
    { format: 'w3c' },
    '#Version: 1.0\n#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)\n',
    (ts) => [iso(ts).slice(0, 10), iso(ts).slice(11, 19), '10.0.0.1', 'GET', '/a', '200', BROWSER.replaceAll(' ', '%20')].join('\t'),
  ],
  [
    'alb',
    { format: 'alb' },
    '',
    (ts) =>
      `https ${iso(ts)} app/lb/50dc6c495c0c9188 10.0.0.1:2817 10.0.0.2:80 0.001 0.002 0.000 200 200 0 57 "GET https://www.example.com:443/a HTTP/1.1" "${BROWSER}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:t/73e2 "Root=1-5833" "www.example.com" "-" 1 ${iso(ts)} "forward" "-" "-" "10.0.0.2:80" "200" "-" "-" TID_1`,
  ],
];

describe('maxFutureSkew in every format', () => {
  it.each(FORMATS)('%s: a line later than the wall clock + maxFutureSkew is future, one within it is accepted', async (_name, options, header, line) => {
    const text = `${header}${line(NOW - 60 * MINUTE)}\n${line(NOW + 9 * MINUTE)}\n${line(NOW + 11 * MINUTE)}\n`;
    const headerLines = header === '' ? 0 : header.trimEnd().split('\n').length;
    const index = openIndex({ now: () => NOW, maxFutureSkew: '10m' });
    const report = index.ingest(text, options);
    expect(report).toMatchObject({ lines: headerLines + 3, accepted: 2, reasons: { future: 1, ...(headerLines > 0 ? { filtered: headerLines } : {}) } });
    expect(report.samples).toEqual([{ line: headerLines + 3, reason: 'future', text: line(NOW + 11 * MINUTE).slice(0, 200) }]); // samples hold 200 bytes
    expect(index.lastUsers('/a')).toEqual([{ user: '10.0.0.1', ts: NOW + 9 * MINUTE }]);

    // The same through a stream fed 7 bytes at a time.
    const streamed = openIndex({ now: () => NOW, maxFutureSkew: '10m' });
    const stream = streamed.createIngestStream(options);
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += 7) stream.write(bytes.subarray(at, at + 7));
    stream.end();
    await new Promise((resolve) => stream.on('finish', resolve));
    expect(stream.report).toEqual(report);

    // Without the check, every line counts.
    expect(openIndex({ now: () => NOW, maxFutureSkew: Infinity }).ingest(text, options)).toMatchObject({ accepted: 3 });
  });
});
