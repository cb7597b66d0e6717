// ingest() lines/s of every log format on the standard workload (bench/workload.mjs),
// next to the built-in combined parser: the same events written as combined lines
// (read by 'combined' and by combined's own Apache LogFormat and nginx log_format,
// compiled), as an IIS W3C log, as a CloudFront (tab-separated W3C) log, as an AWS ALB
// access log, as NDJSON and as Caddy's and Traefik's JSON access logs. Each format gets
// a fresh index per run; the figure is the best of --runs runs by process CPU time, so
// other processes on the machine count less; the load average is printed beside it.
//
//   npm run build && node bench/text-formats.mjs [--events 500000] [--runs 3]
import os from 'node:os';
import { ActivityIndex } from '../dist/index.mjs';
import { benchArgs } from './lib/args.mjs';
import { machineLine } from './lib/machine.mjs';
import { combinedLogBuffer, describeWorkload, generateWorkload, lineDecorations, ndjsonBuffer } from './workload.mjs';

const args = benchArgs(process.argv.slice(2), {
  events: { type: 'int', default: 500_000, min: 1 },
  runs: { type: 'int', default: 3, min: 1 },
}, { help: import.meta.url });

const w = generateWorkload({ events: args.events });

/**
 * Events as lines of one format: `line(user, page, isoSecond, i, agent, bytes)`, after
 * `header`. Event i has the agent and size its combined line has (lineDecorations), so
 * every format carries the same crawlers' lines as combined.
 */
function textOf(header, line) {
  const parts = header === '' ? [] : [header];
  const decorate = lineDecorations(w);
  for (let i = 0; i < w.length; i++) {
    const iso = new Date(w.ts[i]).toISOString();
    const { agent, bytes } = decorate();
    parts.push(line(w.users[w.user[i]], w.pages[w.page[i]], iso, i, agent, bytes));
  }
  return Buffer.from(`${parts.join('\n')}\n`, 'utf8');
}

const combined = combinedLogBuffer(w);
const iis = textOf(
  '#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken',
  (user, page, iso, i, agent) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} 10.0.0.5 GET ${page} - 443 - ${user} ${agent.replaceAll(' ', '+')} - 200 0 0 ${i % 97}`,
);
const cloudfront = textOf(
  '#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken',
  (user, page, iso, i, agent, bytes) =>
    [iso.slice(0, 10), iso.slice(11, 19), 'IAD89-C1', bytes, user, 'GET', 'd111111abcdef8.cloudfront.net', page, '200', '-', agent.replaceAll(' ', '%20'), '-', '-', 'Hit', `req${i}`, 'www.example.com', 'https', '421', '0.004'].join('\t'),
);
const alb = textOf(
  '',
  (user, page, iso, i, agent, bytes) =>
    `https ${iso} app/my-loadbalancer/50dc6c495c0c9188 ${user}:${1024 + (i % 60000)} 10.0.0.1:80 0.001 0.004 0.000 200 200 34 ${bytes} ` +
    `"GET https://www.example.com:443${page} HTTP/1.1" "${agent}" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ` +
    `arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-${i}" "www.example.com" "-" 1 ${iso} "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_${i}`,
);

const json = JSON.stringify;
// Caddy v2's and Traefik's default JSON access-log lines (docs/ingest.md), with the
// members they log around the ones skiptrail reads; Traefik's with the User-Agent header
// kept (accessLog.fields.headers.names.User-Agent=keep), which it drops by default.
const caddy = textOf('', (user, page, iso, i, agent, bytes) =>
  `{"level":"info","ts":${Date.parse(iso) / 1000},"logger":"http.log.access.log0","msg":"handled request","request":{"remote_ip":${json(user)},"remote_port":"${1024 + (i % 60000)}",` +
  `"client_ip":${json(user)},"proto":"HTTP/2.0","method":"GET","host":"www.example.com","uri":${json(page)},"headers":{"User-Agent":[${json(agent)}],"Accept":["*/*"],` +
  `"Accept-Encoding":["gzip, deflate, br"]},"tls":{"resumed":false,"version":772,"cipher_suite":4865,"proto":"h2","server_name":"www.example.com"}},"bytes_read":0,` +
  `"user_id":"","duration":0.00${100 + (i % 900)},"size":${bytes},"status":200,"resp_headers":{"Server":["Caddy"],"Content-Type":["text/html; charset=utf-8"]}}`);
const traefik = textOf('', (user, page, iso, i, agent, bytes) =>
  `{"ClientAddr":${json(`${user}:${1024 + (i % 60000)}`)},"ClientHost":${json(user)},"ClientPort":"${1024 + (i % 60000)}","ClientUsername":"-","DownstreamContentSize":${bytes},` +
  `"DownstreamStatus":200,"Duration":${900000 + i % 1000},"OriginContentSize":${bytes},"OriginDuration":800000,"OriginStatus":200,"Overhead":100000,"RequestAddr":"www.example.com",` +
  `"RequestContentSize":0,"RequestCount":${i + 1},"RequestHost":"www.example.com","RequestMethod":"GET","RequestPath":${json(page)},"RequestPort":"-","RequestProtocol":"HTTP/2.0",` +
  `"RequestScheme":"https","RetryAttempts":0,"RouterName":"web@docker","ServiceName":"web@docker","StartLocal":"${iso}","StartUTC":"${iso}","entryPointName":"websecure","level":"info","msg":"","request_User-Agent":${json(agent)},"time":"${iso}"}`);

const formats = [
  ['combined (built-in)', combined, {}],
  ['apache: combined LogFormat', combined, { format: { apache: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"' } }],
  ['nginx: combined log_format', combined, { format: { nginx: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"' } }],
  ['w3c (IIS, spaces)', iis, { format: 'w3c' }],
  ['w3c (CloudFront, tabs)', cloudfront, { format: 'w3c' }],
  ['alb', alb, { format: 'alb' }],
  ['ndjson', ndjsonBuffer(w), { format: 'ndjson' }],
  ['caddy', caddy, { format: 'caddy' }],
  ['traefik', traefik, { format: 'traefik' }],
];

console.log(machineLine());
console.log(`${w.length.toLocaleString()} events, best of ${args.runs} runs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(describeWorkload(w));
let base;
for (const [name, data, options] of formats) {
  let best = Infinity;
  let report;
  for (let run = 0; run < args.runs; run++) {
    const index = new ActivityIndex({ userWindow: '100000d', maxFutureSkew: Infinity, clock: 'watermark' });
    const cpu0 = process.cpuUsage();
    report = index.ingest(data, options);
    const used = process.cpuUsage(cpu0);
    best = Math.min(best, (used.user + used.system) / 1e6);
    index.close();
  }
  const rate = report.lines / best;
  base ??= rate;
  console.log(
    `${name.padEnd(28)} ${(rate / 1e6).toFixed(2)} M lines/s CPU  ${(data.length / best / 2 ** 20).toFixed(0).padStart(4)} MiB/s  ` +
      `${((rate / base) * 100).toFixed(0).padStart(3)}% of combined  (accepted ${report.accepted.toLocaleString()} of ${report.lines.toLocaleString()})`,
  );
}
console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
