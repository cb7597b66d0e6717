// A combined/common log line parser in plain JavaScript, as a Node developer would write
// it (indexOf, no regex per line), for the pure-JS contender's log phase. It follows the
// rules of SPEC section 5 that the standard workload exercises: user = host, page = the
// request target's path (query and fragment dropped), status 200..399, the bracketed time
// with its offset converted to UTC ms. Lines it cannot read are counted, not thrown.
// With `rules` it also applies skiptrail's page-view rules (docs/semantics.md "What counts
// as a page view": method, static extension, crawler agent) so that both parsers do the
// same job; pure-js.mjs passes skiptrail's default lists.

const MONTHS = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** "10/Oct/2000:13:55:36 -0700" → UTC ms, or NaN. */
export function parseClfTime(s) {
  if (s.length !== 26) return NaN;
  const day = +s.slice(0, 2);
  const month = MONTHS[s.slice(3, 6)];
  const year = +s.slice(7, 11);
  const h = +s.slice(12, 14);
  const mi = +s.slice(15, 17);
  const se = +s.slice(18, 20);
  const sign = s[21] === '-' ? -1 : 1;
  const oh = +s.slice(22, 24);
  const om = +s.slice(24, 26);
  if (month === undefined || !(day >= 1) || Number.isNaN(year + h + mi + se + oh + om)) return NaN;
  return Date.UTC(year, month, day, h, mi, se) - sign * (oh * 60 + om) * 60_000;
}

/**
 * The page-view rules, from lists: { methods: string[], staticExtensions: string[],
 * crawlers: string[] } (lower-case extensions and crawler tokens). Returns
 * (method, page, agent) → null for a view, else the reason ('method' | 'static' |
 * 'crawler'); `agent` undefined means the line has none (the agent part passes).
 */
export function viewRules({ methods, staticExtensions, crawlers }) {
  const methodSet = new Set(methods);
  const staticSet = new Set(staticExtensions);
  return (method, page, agent) => {
    if (!methodSet.has(method)) return 'method';
    const segment = page.slice(page.lastIndexOf('/') + 1);
    const dot = segment.lastIndexOf('.');
    if (dot > 0 && staticSet.has(segment.slice(dot + 1).toLowerCase())) return 'static';
    if (page === '/robots.txt') return 'crawler';
    if (agent !== undefined) {
      if (agent === '' || agent === '-') return 'crawler';
      const lower = agent.toLowerCase();
      for (const token of crawlers) if (lower.includes(token)) return 'crawler';
    }
    return null;
  };
}

/**
 * Parses one line. Returns { user, page, ts } or a string naming why it was rejected.
 * `rules` is viewRules()'s function, or undefined to count every request.
 */
export function parseCombinedLine(line, rules) {
  const sp = line.indexOf(' ');
  if (sp <= 0) return 'malformed';
  const user = line.slice(0, sp);
  const lb = line.indexOf('[', sp);
  const rb = lb < 0 ? -1 : line.indexOf(']', lb);
  if (rb < 0) return 'malformed';
  const ts = parseClfTime(line.slice(lb + 1, rb));
  if (Number.isNaN(ts)) return 'bad-time';
  const q1 = line.indexOf('"', rb);
  const q2 = q1 < 0 ? -1 : line.indexOf('"', q1 + 1);
  if (q2 < 0) return 'malformed';
  const request = line.slice(q1 + 1, q2);
  const m1 = request.indexOf(' ');
  const m2 = request.lastIndexOf(' ');
  let target = m1 < 0 ? '' : m2 > m1 ? request.slice(m1 + 1, m2) : request.slice(m1 + 1);
  const cut = target.search(/[?#]/);
  if (cut >= 0) target = target.slice(0, cut);
  if (target === '') return 'malformed';
  const status = parseInt(line.slice(q2 + 2, q2 + 5), 10);
  if (!(status >= 100 && status <= 599)) return 'bad-status';
  if (status < 200 || status > 399) return 'filtered';
  if (rules !== undefined) {
    // The agent is the last quoted field of a combined line; a common line has none.
    const end = line.length - 1;
    const open = line[end] === '"' ? line.lastIndexOf('"', end - 1) : -1;
    const agent = open > q2 ? line.slice(open + 1, end) : undefined;
    const why = rules(request.slice(0, m1), target, agent);
    if (why !== null) return why;
  }
  return { user, page: target, ts };
}

/**
 * Parses a Buffer of whole lines; calls onEvent(user, page, ts) per accepted line
 * (`rules` as for parseCombinedLine).
 * Returns { lines, accepted, rejected }.
 */
export function parseCombinedBuffer(buf, onEvent, rules) {
  const text = buf.toString('utf8');
  let lines = 0;
  let accepted = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') continue;
    lines++;
    const r = parseCombinedLine(line, rules);
    if (typeof r === 'string') continue;
    accepted++;
    onEvent(r.user, r.page, r.ts);
  }
  return { lines, accepted, rejected: lines - accepted };
}
