/**
 * A plain TypeScript reading of Apache LogFormat and nginx log_format lines, written
 * from docs/ingest.md ("Apache and nginx format strings") for the tests: the format is
 * split into literals and directives, and a line is read by looking for each literal in
 * turn with indexOf. Only the directives the tests use are known here.
 */
import { accessLogTime, closingQuote, firstForwardedAddress, isoTime, pageOfTarget, viewRuleReason, type RefOptions } from './ingest-reference.js';

export interface RefView {
  user: string;
  page: string;
  ts: number;
}

type Piece = { literal: string } | { directive: string };

/**
 * Splits a format into literals and directives (%X, %>s, %400,501{Name}X; $name).
 * Apache strftime time pieces with only text between them are one directive, spelled
 * as written ('%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t').
 */
export function splitFormat(dialect: 'apache' | 'nginx', format: string): Piece[] {
  const pattern = dialect === 'apache' ? /%U%q|%[<>!]?[\d,]*(?:\{[^}]*\})?[a-zA-Z]/g : /\$[A-Za-z0-9_]+/g;
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
    const previous = pieces[pieces.length - 1];
    if (isStrftime(match[0]) && previous !== undefined && 'directive' in previous && isStrftime(previous.directive)) {
      previous.directive += literal + match[0];
    } else {
      pieces.push({ literal }, { directive: match[0] });
    }
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

/** An Apache %{...}t written by strftime (not %{sec}t, %{msec}t, %{usec}t or the ISO form). */
function isStrftime(directive: string): boolean {
  const first = /^%\{(?:begin:|end:)?([^}]*)\}t/.exec(directive);
  if (first === null) return false;
  return first[0].length < directive.length || !['sec', 'msec', 'usec', '%Y-%m-%dT%H:%M:%S%z', '%FT%T%z'].includes(first[1]!);
}

const CONVERSIONS: Record<string, string> = {
  Y: '(?<Y>\\d{4})', m: '(?<m>\\d\\d)', b: '(?<b>[A-Za-z]{3})', h: '(?<b>[A-Za-z]{3})', d: '(?<d>\\d\\d)',
  e: '(?<e>[ \\d]\\d)', H: '(?<H>\\d\\d)', M: '(?<M>\\d\\d)', S: '(?<S>\\d\\d)', a: '[A-Za-z]{3}',
  z: '(?<z>[+-]\\d{4})', T: '%H:%M:%S', R: '%H:%M', F: '%Y-%m-%d', '%': '%',
};

/** A merged strftime directive as a regular expression of its shape, with named groups. */
function strftimeShape(directive: string): RegExp {
  let source = '';
  for (const piece of directive.split(/(%\{(?:begin:|end:)?[^}]*\}t)/)) {
    const name = /^%\{(?:begin:|end:)?([^}]*)\}t$/.exec(piece)?.[1];
    if (name === undefined) source += piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (name === 'msec_frac') source += '(?<ms>\\d{3})';
    else if (name === 'usec_frac') source += '(?<us>\\d{6})';
    else {
      let expanded = name;
      while (/%[TRF]/.test(expanded)) expanded = expanded.replace(/%([TRF])/g, (_, c: string) => CONVERSIONS[c]!);
      source += expanded
        .split(/(%.)/)
        .map((part) => (part.startsWith('%') ? CONVERSIONS[part[1]!]! : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('');
    }
  }
  return new RegExp(source, 'y');
}

/** A strftime directive that names a whole instant (date, hours, minutes, seconds, offset). */
function strftimeComplete(directive: string): boolean {
  const groups = strftimeShape(directive).source;
  return ['Y', 'H', 'M', 'S', 'z'].every((g) => groups.includes(`(?<${g}>`)) && /\(\?<[mb]>/.test(groups) && /\(\?<[de]>/.test(groups);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The time a strftime directive's value gives, or undefined. */
function strftimeTime(directive: string, value: string): number | undefined {
  const shape = strftimeShape(directive);
  const g = shape.exec(value)?.groups;
  if (g === undefined || shape.lastIndex !== value.length) return undefined;
  const month = g.m !== undefined ? Number(g.m) : MONTHS.indexOf(g.b!) + 1;
  const day = Number(g.d ?? g.e!.trim());
  const [year, hour, minute, second] = [g.Y, g.H, g.M, g.S].map(Number) as [number, number, number, number];
  const offset = (g.z![0] === '-' ? -1 : 1) * (Number(g.z!.slice(1, 3)) * 60 + Number(g.z!.slice(3)));
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (month < 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59 || Math.abs(offset) > 14 * 60 || Number(g.z!.slice(3)) > 59) {
    return undefined;
  }
  const fraction = g.ms !== undefined ? Number(g.ms) : g.us !== undefined ? Math.floor(Number(g.us) / 1000) : 0;
  return date.getTime() - offset * 60_000 + fraction;
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
    if (isStrftime(piece.directive)) {
      const shape = strftimeShape(piece.directive);
      shape.lastIndex = at;
      end = shape.exec(line) === null ? -1 : shape.lastIndex;
    } else if (before.endsWith('"') && after.startsWith('"')) end = closingQuote(line, at);
    else if (after === '') end = line.length; // the last field runs to the line's end
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
  const isAgent = (directive: string) => /^%[\d,!]*\{user-agent\}i$/i.test(directive) || directive === '$http_user_agent';
  const directives = splitFormat(dialect, format).flatMap((piece) => ('directive' in piece ? [piece.directive] : []));
  // The time: the most precise one (ms before seconds), the first of equals.
  const times = directives.filter(
    (d) => (isStrftime(d) && strftimeComplete(d)) || /^(%t|%\{(begin:|end:)?(sec|msec|usec|%Y-%m-%dT%H:%M:%S%z|%FT%T%z)\}t|\$(time_local|time_iso8601|msec))$/.test(d),
  );
  const precise = (d: string) => /^(%\{(begin:|end:)?(msec|usec)\}t|\$msec)$/.test(d) || /(msec|usec)_frac/.test(d);
  const timeDirective = times.find(precise) ?? times[0];
  // The status: the first %>s, else the first status.
  const statusDirective = directives.find((d) => d === '%>s') ?? directives.find((d) => /^(%[<>]?s|\$status)$/.test(d));
  const used = (directive: string) =>
    userEntries.includes(directive) ||
    directive === timeDirective ||
    directive === statusDirective ||
    /^(%r|%m|%U|%q|%U%q|\$(request|request_method|request_uri|uri|args))$/.test(directive) ||
    ((rules.ignoreCrawlers ?? true) && isAgent(directive));
  const values = readFields(dialect, format, line, used);
  if (values === undefined) return undefined;
  let user: string | undefined;
  for (const entry of userEntries) {
    let value = values.get(entry);
    if (value !== undefined && /forwarded-for|forwarded_for/i.test(entry)) value = firstForwardedAddress(value);
    if (!absent(value)) {
      user = value;
      break;
    }
  }
  const time = timeDirective === undefined ? undefined : values.get(timeDirective);
  const ts =
    time === undefined
      ? undefined
      : timeDirective === '%t' || timeDirective === '$time_local'
        ? accessLogTime(time)
        : timeDirective === '$time_iso8601' || /^%\{(begin:|end:)?(%Y-%m-%dT%H:%M:%S%z|%FT%T%z)\}t$/.test(timeDirective!)
          ? isoTime(time)
          : /^%\{(begin:|end:)?sec\}t$/.test(timeDirective!)
            ? Number(time) * 1000
            : /^%\{(begin:|end:)?msec\}t$/.test(timeDirective!)
              ? Number(time)
              : /^%\{(begin:|end:)?usec\}t$/.test(timeDirective!)
                ? Math.floor(Number(time) / 1000)
                : timeDirective === '$msec'
                  ? Math.floor(Number(time) * 1000)
                  : strftimeTime(timeDirective!, time);
  const request = values.get('%r') ?? values.get('$request');
  const page =
    request !== undefined
      ? pageOfTarget(request.split(' ')[1] ?? '', false)
      : pageOfTarget(values.get('%U') ?? values.get('$uri') ?? values.get('$request_uri') ?? values.get('%U%q') ?? '', false);
  const status = statusDirective === undefined ? undefined : values.get(statusDirective);
  if (status !== undefined && !(Number(status) >= 200 && Number(status) <= 399)) return undefined;
  if (user === undefined || ts === undefined || page === undefined) return undefined;
  const method = values.get('%m') ?? values.get('$request_method') ?? request?.split(' ')[0];
  const agentFormat = splitFormat(dialect, format).some((piece) => 'directive' in piece && isAgent(piece.directive));
  // A conditional agent (%400,501{User-agent}i) writes "-" for other statuses: unknown.
  const agentEntry = [...values].find(([directive]) => isAgent(directive));
  const agent = agentEntry !== undefined && /^%[\d,!]/.test(agentEntry[0]) && agentEntry[1] === '-' ? undefined : agentEntry?.[1];
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
