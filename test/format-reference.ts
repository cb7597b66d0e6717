/**
 * A plain TypeScript reading of Apache LogFormat and nginx log_format lines, written
 * from docs/ingest.md ("Apache and nginx format strings") for the tests: the format is
 * split into literals and directives, and a line is read by looking for each literal in
 * turn with indexOf. Only the directives the tests use are known here.
 */
import { accessLogTime, closingQuote, isoTime, pageOfTarget, viewRuleReason, type RefOptions } from './ingest-reference.js';

export interface RefView {
  user: string;
  page: string;
  ts: number;
}

type Piece = { literal: string } | { directive: string };

/** Splits a format into literals and directives (%X, %>s, %{Name}X; $name). */
export function splitFormat(dialect: 'apache' | 'nginx', format: string): Piece[] {
  const pattern = dialect === 'apache' ? /%U%q|%(?:[<>]?)(?:\{[^}]*\})?[a-zA-Z]/g : /\$[A-Za-z0-9_]+/g;
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of format.matchAll(pattern)) {
    let literal = format.slice(last, match.index);
    if (match[0] === '%t') {
      literal += '[';
      pieces.push({ literal }, { directive: '%t' });
      last = match.index! + 2;
      pieces.push({ literal: ']' });
      continue;
    }
    pieces.push({ literal }, { directive: match[0] });
    last = match.index! + match[0].length;
  }
  pieces.push({ literal: format.slice(last) });
  // Merge adjacent literals (the "]" of %t and what follows it).
  const merged: Piece[] = [];
  for (const piece of pieces) {
    const previous = merged[merged.length - 1];
    if (previous !== undefined && 'literal' in previous && 'literal' in piece) previous.literal += piece.literal;
    else merged.push({ ...piece });
  }
  return merged;
}

/** Each directive's value, or undefined when the line does not have the format's shape. */
export function readFields(
  dialect: 'apache' | 'nginx',
  format: string,
  line: string,
  used: (directive: string) => boolean = () => true,
): Map<string, string> | undefined {
  const pieces = splitFormat(dialect, format);
  // The unused tail (docs/ingest.md): the format's last directives, all unused, the first
  // of them quoted. The line must reach its opening quote; the rest is not read.
  let tail = pieces.length;
  for (let i = pieces.length - 2; i > 0; i -= 2) {
    const piece = pieces[i] as { directive: string };
    if (used(piece.directive)) break;
    const before = (pieces[i - 1] as { literal: string }).literal;
    const after = (pieces[i + 1] as { literal: string }).literal;
    if (before.endsWith('"') && after.startsWith('"')) tail = i;
  }
  const values = new Map<string, string>();
  let at = 0;
  for (let i = 0; i < pieces.length; i++) {
    if (i === tail) return values;
    const piece = pieces[i]!;
    if ('literal' in piece) {
      if (!line.startsWith(piece.literal, at)) return undefined;
      at += piece.literal.length;
      continue;
    }
    const before = (pieces[i - 1] as { literal: string }).literal;
    const after = (pieces[i + 1] as { literal: string }).literal;
    let end: number;
    if (before.endsWith('"') && after.startsWith('"')) end = closingQuote(line, at);
    else if (after === '') end = line.indexOf(' ', at) < 0 ? line.length : line.indexOf(' ', at);
    else end = line.indexOf(after, at);
    if (end < 0) return undefined;
    if (!values.has(piece.directive)) values.set(piece.directive, line.slice(at, end));
    at = end;
  }
  return at === line.length ? values : undefined;
}

const absent = (value: string | undefined) => value === undefined || value === '' || value === '-' || value === '""';

/**
 * The view a sound line gives: the user from the first present entry of `userList`;
 * undefined also when the view rules (`rules`, the library's defaults when omitted)
 * drop the line.
 */
export function referenceView(
  dialect: 'apache' | 'nginx',
  format: string,
  userList: string,
  line: string,
  rules: RefOptions = {},
): RefView | undefined {
  const userEntries = userList.split('|');
  const isAgent = (directive: string) => /^%\{user-agent\}i$/i.test(directive) || directive === '$http_user_agent';
  const used = (directive: string) =>
    userEntries.includes(directive) ||
    /^(%t|%\{[^}]*\}t|%r|%m|%U|%q|%U%q|%>?s|\$(time_local|time_iso8601|msec|request|request_method|request_uri|uri|args|status))$/.test(directive) ||
    ((rules.ignoreCrawlers ?? true) && isAgent(directive));
  const values = readFields(dialect, format, line, used);
  if (values === undefined) return undefined;
  let user: string | undefined;
  for (const entry of userEntries) {
    let value = values.get(entry);
    if (value !== undefined && /forwarded-for|forwarded_for/i.test(entry)) value = value.split(',')[0]!.trim();
    if (!absent(value)) {
      user = value;
      break;
    }
  }
  const time = values.get('%t') ?? values.get('$time_local');
  const ts =
    time !== undefined
      ? accessLogTime(time)
      : values.has('$time_iso8601')
        ? isoTime(values.get('$time_iso8601')!)
        : values.has('%{sec}t')
          ? Number(values.get('%{sec}t')) * 1000
          : values.has('%{msec}t')
            ? Number(values.get('%{msec}t'))
            : undefined;
  const request = values.get('%r') ?? values.get('$request');
  const page =
    request !== undefined
      ? pageOfTarget(request.split(' ')[1] ?? '', false)
      : pageOfTarget(values.get('%U') ?? values.get('$uri') ?? values.get('$request_uri') ?? values.get('%U%q') ?? '', false);
  const status = values.get('%>s') ?? values.get('%s') ?? values.get('$status');
  if (status !== undefined && !(Number(status) >= 200 && Number(status) <= 399)) return undefined;
  if (user === undefined || ts === undefined || page === undefined) return undefined;
  const method = values.get('%m') ?? values.get('$request_method') ?? request?.split(' ')[0];
  const agentFormat = splitFormat(dialect, format).some((piece) => 'directive' in piece && isAgent(piece.directive));
  const agent = [...values].find(([directive]) => isAgent(directive))?.[1];
  if (viewRuleReason({ method, page, agentFormat, agent }, rules) !== undefined) return undefined;
  return { user, page, ts };
}

/** One line of a reference reading: its view, or why it gives none. */
export type RefLine = { view: RefView } | { reason: string };

const inRange = (status: string) => /^[1-5]\d\d$/.test(status) && Number(status) >= 200 && Number(status) <= 399;

/**
 * A W3C user agent as the browser sent it (docs/ingest.md): percent-decoded twice
 * (CloudFront writes %20, sometimes %2520), then '+' read as a space (IIS). Bytes are
 * kept as latin1 characters: the tokens are ASCII.
 */
export function w3cAgentAsSent(agent: string): string {
  const decode = (s: string) => s.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return decode(decode(agent)).replaceAll('+', ' ');
}

/**
 * W3C extended logs, read as docs/ingest.md describes them: '#' lines are directives
 * (filtered; a #Fields: without date, time or cs-uri-stem is no-fields), a data line
 * before any #Fields: is no-fields, values are split on tabs when the first data line
 * after #Fields: has one, else on spaces; the user is cs-username unless '-', else c-ip.
 * Then the view rules (`rules`, the library's defaults when omitted): the method is
 * cs-method, the agent cs(User-Agent) as sent (w3cAgentAsSent; a '+' in a token is a
 * space too); a #Fields: without one of them passes that rule.
 */
export function referenceW3c(text: string, keepQuery = false, rules: RefOptions = {}): RefLine[] {
  const w3cRules: RefOptions = rules.crawlers === undefined ? rules : { ...rules, crawlers: rules.crawlers.map((t) => t.replaceAll('+', ' ')) };
  let names: string[] | undefined;
  let separator: string | undefined;
  const out: RefLine[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) {
      if (!line.startsWith('#Fields:')) {
        out.push({ reason: 'filtered' });
        continue;
      }
      names = line.slice('#Fields:'.length).split(/[ \t]+/).filter((n) => n !== '');
      separator = undefined;
      const usable = ['date', 'time', 'cs-uri-stem'].every((n) => names!.includes(n)) && (names.includes('c-ip') || names.includes('cs-username'));
      if (!usable) names = undefined;
      out.push({ reason: usable ? 'filtered' : 'no-fields' });
      continue;
    }
    if (names === undefined) {
      out.push({ reason: 'no-fields' });
      continue;
    }
    separator ??= line.includes('\t') ? '\t' : ' ';
    const values = line.split(separator);
    if (values.length !== names.length || values.some((v) => v === '')) {
      out.push({ reason: 'malformed' });
      continue;
    }
    const get = (name: string) => {
      const i = names!.indexOf(name);
      return i < 0 ? undefined : values[i];
    };
    const status = get('sc-status');
    if (status !== undefined && !/^[1-5]\d\d$/.test(status)) {
      out.push({ reason: 'bad-status' });
      continue;
    }
    if (status !== undefined && !inRange(status)) {
      out.push({ reason: 'filtered' });
      continue;
    }
    const user = [get('cs-username'), get('c-ip')].find((v) => v !== undefined && v !== '-' && v !== '""');
    if (user === undefined) {
      out.push({ reason: 'filtered' });
      continue;
    }
    const ts = isoTime(`${get('date')}T${get('time')}Z`);
    if (get('date')!.length !== 10 || ts === undefined) {
      out.push({ reason: 'bad-time' });
      continue;
    }
    const stem = get('cs-uri-stem')!;
    const query = get('cs-uri-query');
    if (!stem.startsWith('/')) {
      out.push({ reason: 'malformed' });
      continue;
    }
    let page = stem.split('#')[0]!;
    if (!keepQuery) page = page.split('?')[0]!;
    else if (query !== undefined && query !== '-' && query !== '') page += `?${query}`;
    const agent = get('cs(User-Agent)');
    const rule = viewRuleReason({ method: get('cs-method'), page, agentFormat: true, agent: agent === undefined ? undefined : w3cAgentAsSent(agent) }, w3cRules);
    out.push(rule === undefined ? { view: { user, page, ts } } : { reason: rule });
  }
  return out;
}

/** Splits an ALB line into its fields: space-separated, some quoted (with \" escapes). */
function albFields(line: string): string[] | undefined {
  const fields: string[] = [];
  let at = 0;
  while (at < line.length) {
    if (line[at] === '"') {
      const close = closingQuote(line, at + 1);
      if (close < 0) {
        // An unclosed quote after request_creation_time is in the part not read.
        if (fields.length < 22) return undefined;
        fields.push(line.slice(at + 1));
        return fields;
      }
      fields.push(line.slice(at + 1, close));
      at = close + 1;
    } else {
      const space = line.indexOf(' ', at);
      const end = space < 0 ? line.length : space;
      fields.push(line.slice(at, end));
      at = end;
    }
    if (at < line.length) {
      if (line[at] !== ' ') return undefined;
      at++;
    }
  }
  return fields;
}

/**
 * AWS ALB access log lines, read as docs/ingest.md describes them: user = the client
 * address without its port, page = the request target's path, time =
 * request_creation_time (field 22), status = elb_status_code; fields after
 * request_creation_time are not read. Then the view rules (`rules`, the defaults when
 * omitted) with the request's method and user_agent (field 14).
 */
export function referenceAlb(text: string, rules: RefOptions = {}): RefLine[] {
  return text.split('\n').map((line): RefLine => {
    const f = albFields(line);
    if (f === undefined || f.length < 23) return { reason: 'malformed' };
    const status = f[8]!;
    if (!/^[1-5]\d\d$/.test(status)) return { reason: 'bad-status' };
    if (!inRange(status)) return { reason: 'filtered' };
    const user = f[3]!.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
    const ts = isoTime(f[21]!);
    if (ts === undefined) return { reason: 'bad-time' };
    const parts = f[12]!.split(' ');
    if (parts.length !== 3 || !/^HTTP\/\d+(\.\d+)?$/.test(parts[2]!)) return { reason: 'malformed' };
    const page = pageOfTarget(parts[1]!, false);
    if (page === undefined) return { reason: 'malformed' };
    const rule = viewRuleReason({ method: parts[0], page, agentFormat: true, agent: f[13] }, rules);
    return rule === undefined ? { view: { user, page, ts } } : { reason: rule };
  });
}
