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
