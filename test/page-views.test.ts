// What counts as a page view (docs/semantics.md): the method, static and crawler rules,
// their defaults, their options and flags, checked against the plain reference.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ActivityIndex,
  DEFAULT_CRAWLERS,
  DEFAULT_METHODS,
  DEFAULT_STATIC_EXTENSIONS,
  type IngestOptions,
  type RejectReason,
} from '../src/index.js';
import { openIndex } from './helpers.js';
import { FILTER_REASONS, referenceIngest } from './ingest-reference.js';
import { runCli, startServe, tempDir, waitFor } from './live-helpers.js';

const T = Date.UTC(2026, 10, 28, 10, 0, 0);
const TIME = '28/Nov/2026:10:00:00 +0000';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';

function line({ request = 'GET /articles/skiplists HTTP/1.1', agent = FIREFOX, status = 200 } = {}): string {
  return `203.0.113.7 - - [${TIME}] "${request}" ${status} 512 "https://example.com/" "${agent}"`;
}

/** The one reason a line gets (undefined: it is a page view), checked against the reference. */
function reasonOf(text: string, options: IngestOptions = {}): RejectReason | undefined {
  const index = openIndex();
  try {
    const report = index.ingest(text, options);
    expect(report).toEqual(referenceIngest(text, options as never).report);
    expect(report.lines).toBe(report.accepted + report.rejected);
    const reason = Object.keys(report.reasons)[0] as RejectReason | undefined;
    if (reason === undefined || FILTER_REASONS.has(reason)) expect(report.samples).toEqual([]); // filters are never sampled
    return reason;
  } finally {
    index.close();
  }
}

describe('what counts as a page view: the defaults', () => {
  it('counts a GET of a page by a browser', () => {
    expect(reasonOf(line())).toBeUndefined();
    expect(DEFAULT_METHODS).toEqual(['GET']);
  });

  it.each(['POST /comments', 'HEAD /articles/skiplists', 'PUT /a', 'DELETE /a', 'OPTIONS /a', 'PROPFIND /a', 'get /a'])(
    "rejects '%s' as method: only GET loads a page for a reader",
    (request) => expect(reasonOf(line({ request: `${request} HTTP/1.1` }))).toBe('method'),
  );

  it.each(['/favicon.ico', '/css/site.css', '/js/app.min.js?v=3', '/img/Logo.PNG', '/fonts/x.woff2', '/app.js.map', '/v/intro.mp4', '/i.svg#icon', '/a.webp'])(
    "rejects '%s' as static",
    (page) => expect(reasonOf(line({ request: `GET ${page} HTTP/1.1` }))).toBe('static'),
  );

  it.each(['/', '/articles/skiplists', '/index.html', '/paper.pdf', '/notes.txt', '/feed.xml', '/.well-known/x', '/a.css/b', '/.css', '/page?file=a.css'])(
    "counts '%s' (a document, not a static asset)",
    (page) => expect(reasonOf(line({ request: `GET ${page} HTTP/1.1` }))).toBeUndefined(),
  );

  it.each([
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
    'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
    'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/105.0.0.0',
  ])("counts the browser agent '%s'", (agent) => {
    expect(reasonOf(line({ agent }))).toBeUndefined();
  });

  it.each([
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
    'Mozilla/5.0 (compatible; YandexBot/3.0)',
    'Mozilla/5.0 (compatible; Baiduspider/2.0)',
    'Mozilla/5.0 (compatible; Yahoo! Slurp)',
    'facebookexternalhit/1.1',
    'Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/119.0 Safari/537.36',
    'curl/8.4.0',
    'Wget/1.21.4',
    'python-requests/2.31.0',
    'Go-http-client/1.1',
    'UptimeRobot/2.0',
    // health checks and monitors (a probe every few seconds would head onlineUsers)
    'kube-probe/1.28',
    'ELB-HealthChecker/2.0',
    'GoogleHC/1.0',
    'Consul Health Check',
    'Prometheus/2.45.0',
    'Blackbox Exporter/0.24.0',
    'Mozilla/5.0 (compatible; Uptime-Kuma/1.23.0)',
    'Datadog Agent/7.48.0',
    'Mozilla/5.0 (compatible; NewRelicPinger/1.0; 12345)',
    'check_http/v2.3.3 (nagios-plugins 2.3.3)',
    'Zabbix',
    // link previews, scanners, libraries
    'Mozilla/5.0 (compatible; Mastodon/4.2.1; +https://mastodon.social/)',
    'WhatsApp/2.23.20.0',
    'Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)',
    'Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)',
    'Chef Client/10.18.2 (ruby-1.9.3-p327; ohai-6.16.0; x86_64-linux; +http://opscode.com)',
    'HTTP_Request2/2.1.1 (http://pear.php.net/package/http_request2) PHP/5.3.2-1ubuntu4.18',
    'Dart/3.1 (dart:io)',
    'undici',
    '-',
    '',
  ])("rejects the agent '%s' as crawler", (agent) => {
    expect(reasonOf(line({ agent }))).toBe('crawler');
  });

  it('rejects /robots.txt as crawler whatever the agent says (only robots fetch it)', () => {
    expect(reasonOf(line({ request: 'GET /robots.txt HTTP/1.1' }))).toBe('crawler');
  });

  it('checks method, then static, then crawler, after everything else about the line', () => {
    expect(reasonOf(line({ request: 'POST /a.css HTTP/1.1', agent: 'Googlebot' }))).toBe('method');
    expect(reasonOf(line({ request: 'GET /a.css HTTP/1.1', agent: 'Googlebot' }))).toBe('static');
    expect(reasonOf(line({ request: 'POST /a.css HTTP/1.1', status: 404 }))).toBe('filtered');
    expect(reasonOf(line({ request: 'POST /a.css', agent: 'bot' }).replace(TIME, '31/Feb/2026:10:00:00 +0000'))).toBe('bad-time');
  });

  it('keeps lines = accepted + rejected and counts each reason in the report and in stats()', () => {
    const lines = [line(), line({ request: 'POST /a HTTP/1.1' }), line({ request: 'GET /a.css HTTP/1.1' }), line({ agent: 'bingbot' }), 'garbage'];
    const index = openIndex();
    const report = index.ingest(lines.join('\n'));
    expect(report).toEqual({
      lines: 5,
      accepted: 1,
      rejected: 4,
      late: 0,
      reasons: { method: 1, static: 1, crawler: 1, malformed: 1 },
      samples: [{ line: 5, reason: 'malformed', text: 'garbage' }],
    });
    expect(index.stats().events).toBe(1);
    expect(index.lastUsers('/articles/skiplists')).toEqual([{ user: '203.0.113.7', ts: T }]);
  });

  it('the default lists hold the usual suspects', () => {
    for (const extension of ['css', 'js', 'png', 'jpg', 'gif', 'svg', 'ico', 'woff2', 'map', 'mp4']) expect(DEFAULT_STATIC_EXTENSIONS).toContain(extension);
    for (const document of ['html', 'pdf', 'txt', 'xml']) expect(DEFAULT_STATIC_EXTENSIONS).not.toContain(document);
    for (const token of ['bot', 'crawl', 'spider', 'slurp', 'curl/', 'wget/', 'python-requests']) expect(DEFAULT_CRAWLERS).toContain(token);
    expect(Object.isFrozen(DEFAULT_STATIC_EXTENSIONS) && Object.isFrozen(DEFAULT_CRAWLERS) && Object.isFrozen(DEFAULT_METHODS)).toBe(true);
  });
});

describe('what counts as a page view: options', () => {
  it("methods: a list (exact bytes) or 'any'", () => {
    expect(reasonOf(line({ request: 'HEAD /a HTTP/1.1' }), { methods: ['GET', 'HEAD'] })).toBeUndefined();
    expect(reasonOf(line({ request: 'head /a HTTP/1.1' }), { methods: ['GET', 'HEAD'] })).toBe('method');
    expect(reasonOf(line({ request: 'GET /a HTTP/1.1' }), { methods: ['POST'] })).toBe('method');
    expect(reasonOf(line({ request: 'PROPFIND /a HTTP/1.1' }), { methods: 'any' })).toBeUndefined();
  });

  it('ignoreStatic: false counts static files; staticExtensions replaces the list (any case, with or without the dot)', () => {
    expect(reasonOf(line({ request: 'GET /favicon.ico HTTP/1.1' }), { ignoreStatic: false })).toBeUndefined();
    expect(reasonOf(line({ request: 'GET /a.PDF HTTP/1.1' }), { staticExtensions: ['.pdf'] })).toBe('static');
    expect(reasonOf(line({ request: 'GET /a.css HTTP/1.1' }), { staticExtensions: ['PDF'] })).toBeUndefined();
    expect(reasonOf(line({ request: 'GET /a.css?x=1 HTTP/1.1' }), { keepQuery: true })).toBe('static');
  });

  it('ignoreCrawlers: false counts crawlers; crawlers replaces the tokens (case-insensitive substrings)', () => {
    expect(reasonOf(line({ agent: 'Googlebot/2.1' }), { ignoreCrawlers: false })).toBeUndefined();
    expect(reasonOf(line({ request: 'GET /robots.txt HTTP/1.1' }), { ignoreCrawlers: false })).toBeUndefined();
    expect(reasonOf(line({ agent: '-' }), { ignoreCrawlers: false })).toBeUndefined();
    expect(reasonOf(line({ agent: 'Googlebot/2.1' }), { crawlers: ['MyMonitor'] })).toBeUndefined();
    expect(reasonOf(line({ agent: 'mymonitor/1.0' }), { crawlers: ['MyMonitor'] })).toBe('crawler');
    expect(reasonOf(line({ agent: 'Googlebot/2.1' }), { crawlers: [...DEFAULT_CRAWLERS, 'mymonitor'] })).toBe('crawler');
  });

  it('applies to every format: common (no agent), ndjson (no method, no agent), Apache and nginx format strings', () => {
    const common = `10.0.0.1 - - [${TIME}] "POST /a HTTP/1.1" 200 1`;
    expect(reasonOf(common, { format: 'common' })).toBe('method');
    expect(reasonOf(common.replace('POST /a', 'GET /s.css'), { format: 'common' })).toBe('static');
    expect(reasonOf(common.replace('POST', 'GET'), { format: 'common' })).toBeUndefined(); // no agent: not a crawler
    const index = openIndex();
    const nd = index.ingest(
      [`{"user":"u","page":"/s.css","ts":${T}}`, `{"user":"u","page":"/a?f=x.css","ts":${T}}`, `{"user":"u","page":"/robots.txt","ts":${T}}`].join('\n'),
      { format: 'ndjson' },
    );
    expect(nd).toMatchObject({ accepted: 2, reasons: { static: 1 } });
    const apache = '%h %t "%r" %>s "%{User-Agent}i"';
    const apacheReport = index.ingest(
      [`10.0.0.1 [${TIME}] "GET /a HTTP/1.1" 200 "${FIREFOX}"`, `10.0.0.1 [${TIME}] "GET /a HTTP/1.1" 200 "AhrefsBot/7.0"`, `10.0.0.1 [${TIME}] "DELETE /a HTTP/1.1" 200 "x"`].join('\n'),
      { format: { apache } },
    );
    expect(apacheReport).toMatchObject({ accepted: 1, reasons: { crawler: 1, method: 1 } });
    const nginx = '$remote_addr [$time_local] $request_method $uri $status "$http_user_agent"';
    const nginxReport = index.ingest([`10.0.0.1 [${TIME}] GET /b 200 "${FIREFOX}"`, `10.0.0.1 [${TIME}] GET /b 200 "curl/8"`].join('\n'), { format: { nginx } });
    expect(nginxReport).toMatchObject({ accepted: 1, reasons: { crawler: 1 } });
    index.close();
  });

  it('applies to the JSON formats: caddy and traefik natively, ndjson with fields.method and fields.agent', () => {
    const caddy = (method: string, uri: string, headers: string) =>
      `{"ts":${T / 1000},"request":{"client_ip":"10.0.0.1","method":"${method}","uri":"${uri}"${headers}},"status":200}`;
    const ua = (agent: string) => `,"headers":{"User-Agent":["${agent}"]}`;
    expect(reasonOf(caddy('GET', '/a', ua(FIREFOX)), { format: 'caddy' })).toBeUndefined();
    expect(reasonOf(caddy('POST', '/a', ua(FIREFOX)), { format: 'caddy' })).toBe('method');
    expect(reasonOf(caddy('POST', '/a', ua(FIREFOX)), { format: 'caddy', methods: ['GET', 'POST'] })).toBeUndefined();
    expect(reasonOf(caddy('GET', '/a.css', ua(FIREFOX)), { format: 'caddy' })).toBe('static');
    expect(reasonOf(caddy('GET', '/a', ua('Googlebot/2.1')), { format: 'caddy' })).toBe('crawler');
    expect(reasonOf(caddy('GET', '/a', ua('Googlebot/2.1')), { format: 'caddy', ignoreCrawlers: false })).toBeUndefined();
    expect(reasonOf(caddy('GET', '/a', ua('MyMonitor/1')), { format: 'caddy', crawlers: ['mymonitor'] })).toBe('crawler');
    expect(reasonOf(caddy('GET', '/a', ',"headers":{"Accept":["*/*"]}'), { format: 'caddy' })).toBe('crawler'); // sent no agent
    expect(reasonOf(caddy('GET', '/a', ''), { format: 'caddy' })).toBeUndefined(); // headers not logged: unknown
    // A user's own agent path has no headers object: missing is unknown.
    expect(reasonOf(caddy('GET', '/a', ',"headers":{}'), { format: 'caddy', fields: { agent: 'request.headers.User-Agent' } })).toBeUndefined();

    const traefik = (method: string, agent?: string) =>
      `{"ClientHost":"10.0.0.1","DownstreamStatus":200,"RequestMethod":"${method}","RequestPath":"/a","StartUTC":"2026-11-28T10:00:00Z"${agent === undefined ? '' : `,"request_User-Agent":"${agent}"`}}`;
    expect(reasonOf(traefik('GET'), { format: 'traefik' })).toBeUndefined(); // Traefik drops headers by default
    expect(reasonOf(traefik('GET', FIREFOX), { format: 'traefik' })).toBeUndefined();
    expect(reasonOf(traefik('GET', 'curl/8.4.0'), { format: 'traefik' })).toBe('crawler');
    expect(reasonOf(traefik('GET', '-'), { format: 'traefik' })).toBe('crawler');
    expect(reasonOf(traefik('HEAD'), { format: 'traefik' })).toBe('method');
    expect(reasonOf(traefik('HEAD'), { format: 'traefik', methods: 'any' })).toBeUndefined();

    const nd = (method: string, agent: string) => `{"u":"u","p":"/a","t":${T},"req":{"verb":"${method}","ua":"${agent}"}}`;
    const fields = { user: 'u', page: 'p', ts: 't', method: 'req.verb', agent: 'req.ua' };
    expect(reasonOf(nd('GET', FIREFOX), { format: 'ndjson', fields })).toBeUndefined();
    expect(reasonOf(nd('PUT', FIREFOX), { format: 'ndjson', fields })).toBe('method');
    expect(reasonOf(nd('GET', 'Wget/1.21'), { format: 'ndjson', fields })).toBe('crawler');
    expect(reasonOf(nd('PUT', 'Wget/1.21'), { format: 'ndjson', fields: { ...fields, method: undefined } })).toBe('crawler');
    expect(reasonOf(`{"u":"u","p":"/a","t":${T}}`, { format: 'ndjson', fields })).toBeUndefined(); // both absent: unknown
  });

  it("applies to 'w3c' (cs-method, cs(User-Agent)) and 'alb' (the request's method, user_agent)", () => {
    const index = openIndex();
    const w3c = [
      '#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)',
      '2026-11-28 10:00:00 10.0.0.1 GET /a 200 Mozilla/5.0+(X11;+Linux+x86_64)',
      '2026-11-28 10:00:00 10.0.0.1 POST /a 200 Mozilla/5.0+(X11;+Linux+x86_64)',
      '2026-11-28 10:00:00 10.0.0.1 HEAD /a 200 Mozilla/5.0+(X11;+Linux+x86_64)',
      '2026-11-28 10:00:00 10.0.0.1 GET /a.css 200 Mozilla/5.0+(X11;+Linux+x86_64)',
      '2026-11-28 10:00:00 10.0.0.1 GET /a 200 Mozilla/5.0+(compatible;+Googlebot/2.1;++http://www.google.com/bot.html)',
      '2026-11-28 10:00:00 10.0.0.1 GET /a 200 -',
      // A #Fields: without the method and the agent: those rules' parts pass.
      '#Fields: date time c-ip cs-uri-stem sc-status',
      '2026-11-28 10:00:00 10.0.0.1 /b 200',
      '2026-11-28 10:00:00 10.0.0.1 /robots.txt 200',
    ].join('\n');
    expect(index.ingest(w3c, { format: 'w3c' })).toMatchObject({ accepted: 2, reasons: { filtered: 2, method: 2, static: 1, crawler: 3 } });
    expect(index.ingest(w3c, { format: 'w3c', methods: 'any', ignoreStatic: false, ignoreCrawlers: false })).toMatchObject({ accepted: 8 });
    expect(index.ingest(w3c, { format: 'w3c', methods: ['GET', 'HEAD'], crawlers: ['googlebot'] })).toMatchObject({ accepted: 3, reasons: { crawler: 3 } });
    const albLine = (request: string, agent: string) =>
      `https 2026-11-28T10:00:00.186641Z app/lb/50dc6c495c0c9188 10.0.0.2:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "${request}" "${agent}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:t/73e2 "Root=1-58337281" "www.example.com" "-" 1 2026-11-28T10:00:00.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1`;
    const alb = [
      albLine('GET https://www.example.com:443/a HTTP/1.1', FIREFOX),
      albLine('POST https://www.example.com:443/a HTTP/1.1', FIREFOX),
      albLine('GET https://www.example.com:443/a.js HTTP/1.1', FIREFOX),
      albLine('GET https://www.example.com:443/a HTTP/1.1', 'Mozilla/5.0 (compatible; bingbot/2.0)'),
      albLine('GET https://www.example.com:443/a HTTP/1.1', '-'),
    ].join('\n');
    expect(index.ingest(alb, { format: 'alb' })).toMatchObject({ accepted: 1, reasons: { method: 1, static: 1, crawler: 2 } });
    expect(index.ingest(alb, { format: 'alb', methods: 'any', ignoreStatic: false, ignoreCrawlers: false })).toMatchObject({ accepted: 5 });
    index.close();
  });

  it('counts load balancer and Kubernetes health checks as crawlers (they are in the targets\' logs)', () => {
    for (const agent of ['ELB-HealthChecker/2.0', 'kube-probe/1.29', 'GoogleHC/1.0']) expect(reasonOf(line({ agent }))).toBe('crawler');
    for (const token of ['elb-healthchecker', 'kube-probe', 'googlehc']) expect(DEFAULT_CRAWLERS).toContain(token);
  });

  it.each<[string, IngestOptions, RegExp]>([
    ['methods with ndjson', { format: 'ndjson', methods: ['GET'] }, /options\.methods does not apply to format 'ndjson'/],
    ['ignoreCrawlers with common', { format: 'common', ignoreCrawlers: false }, /options\.ignoreCrawlers does not apply to format 'common'.*user agent/],
    ['crawlers with ndjson', { format: 'ndjson', crawlers: ['bot'] }, /options\.crawlers does not apply/],
    ['crawlers with a format string without the agent', { format: { apache: '%h %t "%r" %>s' }, crawlers: ['bot'] }, /options\.crawlers does not apply/],
    ['methods with a format string without a method', { format: { nginx: '$remote_addr [$time_local] $uri $status' }, methods: 'any' }, /options\.methods does not apply/],
    ['an empty methods list', { methods: [] }, /options\.methods must be a non-empty array/],
    ['a method that is no HTTP token', { methods: ['GET', 'G T'] }, /options\.methods\[1\] must be an HTTP method/],
    ["a methods string other than 'any'", { methods: 'GET' as never }, /options\.methods must be an array of methods or 'any'/],
    ['an extension with a slash', { staticExtensions: ['a/b'] }, /options\.staticExtensions\[0\] must be an extension/],
    ['an empty extension', { staticExtensions: ['.'] }, /options\.staticExtensions\[0\]/],
    ['staticExtensions with ignoreStatic: false', { ignoreStatic: false, staticExtensions: ['css'] }, /no effect with ignoreStatic: false/],
    ['crawlers with ignoreCrawlers: false', { ignoreCrawlers: false, crawlers: ['bot'] }, /no effect with ignoreCrawlers: false/],
    ['a token with a control character', { crawlers: ['bo\tt'] }, /options\.crawlers\[0\] must be a token/],
    ['an empty crawlers list', { crawlers: [] }, /options\.crawlers must be a non-empty array/],
  ])('refuses %s with a RangeError naming the option', (_name, options, message) => {
    const index = openIndex();
    expect(() => index.ingest('', options)).toThrow(RangeError);
    expect(() => index.ingest('', options)).toThrow(message);
    index.close();
  });

  it.each<[string, unknown, RegExp]>([
    ['methods', 42, /options\.methods must be an array of methods/],
    ['methods', ['GET', 1], /options\.methods\[1\] must be a string/],
    ['ignoreStatic', 'yes', /options\.ignoreStatic must be a boolean/],
    ['staticExtensions', 'css', /options\.staticExtensions must be an array of extensions/],
    ['ignoreCrawlers', 1, /options\.ignoreCrawlers must be a boolean/],
    ['crawlers', [null], /options\.crawlers\[0\] must be a string/],
  ])('refuses a bad %s type with a TypeError naming it', (key, value, message) => {
    const index = openIndex();
    expect(() => index.ingest('', { [key]: value } as IngestOptions)).toThrow(TypeError);
    expect(() => index.ingest('', { [key]: value } as IngestOptions)).toThrow(message);
    index.close();
  });

  it('names the nearest option for a misspelt one', () => {
    const index = openIndex();
    expect(() => index.ingest('', { ignoreCrawler: true } as IngestOptions)).toThrow(/ignoreCrawlers/);
    expect(() => index.ingest('', { staticExtension: ['css'] } as IngestOptions)).toThrow(/staticExtensions/);
    index.close();
  });
});

describe('what counts as a page view: the command line', () => {
  const log = () => {
    const dir = tempDir();
    const file = path.join(dir, 'access.log');
    fs.writeFileSync(
      file,
      [line(), line({ request: 'HEAD /articles/skiplists HTTP/1.1' }), line({ request: 'GET /site.css HTTP/1.1' }), line({ agent: 'Googlebot/2.1' })].join('\n') + '\n',
    );
    return file;
  };

  it('replay: the defaults, --methods, --count-static, --count-crawlers, --static-extensions, --crawlers', async () => {
    const file = log();
    const report = async (...flags: string[]) => {
      const result = await runCli(['replay', file, '--json', '--quiet', ...flags]);
      expect(result.stderr).toBe('');
      return JSON.parse(result.stdout).report;
    };
    expect(await report()).toMatchObject({ accepted: 1, reasons: { method: 1, static: 1, crawler: 1 } });
    expect(await report('--ignore-static', '--ignore-crawlers')).toMatchObject({ accepted: 1, reasons: { method: 1, static: 1, crawler: 1 } });
    expect(await report('--methods', 'GET,HEAD')).toMatchObject({ accepted: 2, reasons: { static: 1, crawler: 1 } });
    expect(await report('--methods', 'any', '--count-static', '--count-crawlers')).toMatchObject({ accepted: 4, reasons: {} });
    expect(await report('--static-extensions', 'png', '--crawlers', 'bingbot')).toMatchObject({ accepted: 3, reasons: { method: 1 } });
  });

  it('replay: contradicting or bad flags are usage errors naming the flag', async () => {
    const file = log();
    for (const [flags, message] of [
      [['--ignore-static', '--count-static'], /--ignore-static and --count-static contradict/],
      [['--methods', 'GET,,HEAD'], /--methods must be a comma-separated list/],
      [['--methods', 'G(T'], /--methods must be an HTTP method/],
      [['--count-static', '--static-extensions', 'css'], /--static-extensions has no effect/],
      [['--format', 'common', '--count-crawlers'], /--count-crawlers does not apply to format 'common'/],
    ] as const) {
      const result = await runCli(['replay', file, ...flags]);
      expect(result.code, flags.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });

  it('serve: /stats counts each reason', async () => {
    const file = log();
    const served = await startServe(['--follow', file, '--from', 'start', '--poll-interval', '50ms', '--clock', 'watermark', '--methods', 'GET,HEAD']);
    const stats = await waitFor(
      async () => (await served.get('/stats')).body,
      (body) => body.ingest.lines === 4,
      { what: '4 lines ingested' },
    );
    expect(stats.ingest).toMatchObject({ lines: 4, accepted: 2, rejected: 2, reasons: { static: 1, crawler: 1 } });
    expect(await served.stop()).toBe(0);
  });
});

describe('ActivityIndex#createIngestStream() and the view rules', () => {
  it('gives the same report cut into 1-byte chunks as whole', async () => {
    const text = [line(), line({ request: 'POST /a HTTP/1.1' }), line({ request: 'GET /a.css HTTP/1.1' }), line({ agent: 'Go-http-client/1.1' })].join('\n');
    const whole = new ActivityIndex({ now: () => T });
    const expected = whole.ingest(text);
    const streamed = new ActivityIndex({ now: () => T });
    const stream = streamed.createIngestStream();
    for (const byte of Buffer.from(text)) stream.write(Buffer.of(byte));
    stream.end();
    await new Promise((resolve) => stream.on('finish', resolve));
    expect(stream.report).toEqual(expected);
    whole.close();
    streamed.close();
  });
});
