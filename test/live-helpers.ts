// Shared by the live-source and command tests: temporary folders, log lines, polling
// with a deadline, and the built `skiptrail` command run as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'apache_logs');

/** A fresh folder, removed when the current test finishes. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-live-'));
  onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** 2015-05-17T10:05:03Z, the first time in the fixture. */
export const T0 = Date.UTC(2015, 4, 17, 10, 5, 3);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** One combined-format line for a view of `page` by host `user` at `ts` (UTC). */
export function combinedLine(user: string, page: string, ts: number, status = 200): string {
  const d = new Date(ts);
  const two = (n: number) => String(n).padStart(2, '0');
  const time = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
  return `${user} - - [${time}] "GET ${page} HTTP/1.1" ${status} 512 "-" "skiptrail-test"\n`;
}

/** `count` combined lines, line i by user u<i>, page /p<i % pages>, one second apart from `start`. */
export function combinedLines(first: number, count: number, pages = 7, start = T0): string {
  let text = '';
  for (let i = first; i < first + count; i++) text += combinedLine(`u${i}`, `/p${i % pages}`, start + i * 1000);
  return text;
}

/**
 * Combined line i (1 to 9) by host 10.0.0.i for /p<i>: all of one length, and with the
 * same last 64 bytes (all user agent), as in a real log.
 */
export function agentLine(i: number): string {
  return `10.0.0.${i} - - [17/May/2015:10:05:0${i} +0000] "GET /p${i} HTTP/1.1" 200 1 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"\n`;
}

/** Polls `read` until `done(value)` holds; throws with the last value after `timeoutMs`. */
export async function waitFor<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 10_000, intervalMs = 20, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A TCP or UDP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js ...args` to completion. */
export async function runCli(args: string[], { input, cwd = ROOT }: { input?: string | Buffer; cwd?: string } = {}): Promise<CliResult> {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(input ?? '');
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

export interface Served {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** GET a path; resolves with the status and the parsed JSON body (text for /metrics). */
  get(pathAndQuery: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }>;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves once GET /readyz answers 200 (a shard: it has caught up and answers queries). */
  ready(): Promise<void>;
}

/**
 * Starts `skiptrail serve --port 0 ...args` (or `gateway`) and resolves once it prints
 * its address. It is killed when the current test finishes, unless `outlive` is set
 * (started from beforeAll: the caller stops it).
 */
export async function startServe(args: string[], { cwd = ROOT, command = 'serve', outlive = false } = {}): Promise<Served> {
  assertBuilt();
  const child = spawn(process.execPath, [CLI, command, '--port', '0', ...args], { cwd, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  if (!outlive) {
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
  }
  const url = await Promise.race([
    waitFor(
      () => /serving (http:\/\/\S+)/.exec(stderr)?.[1],
      (value) => value !== undefined,
      { what: 'serve to listen', timeoutMs: 15_000 },
    ),
    exited.then(([code]) => {
      throw new Error(`serve exited with ${code}: ${stderr}`);
    }),
  ]);
  const get: Served['get'] = async (pathAndQuery, init) => {
    const response = await fetch(url + pathAndQuery, init);
    const text = await response.text();
    const json = (response.headers.get('content-type') ?? '').startsWith('application/json');
    return { status: response.status, body: json && text.length > 0 ? JSON.parse(text) : text, headers: response.headers };
  };
  return {
    url: url!,
    child,
    stderr: () => stderr,
    get,
    async ready() {
      await waitFor(
        async () => {
          const { status, body } = await get('/readyz');
          return `${status} ${JSON.stringify(body)}`;
        },
        (answer) => answer.startsWith('200 '),
        { what: 'GET /readyz to answer 200' },
      );
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

function assertBuilt(): void {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts (npm test does)`);
}
