// What the cluster tests share: a seeded workload of combined-format lines with equal
// times and late events, the index settings every shard and the one index use, and a
// `skiptrail publish` process.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI, ROOT, T0, combinedLine } from './live-helpers.js';

export const USERS = 120;
export const PAGES = 12;
// The 'watermark' clock: every shard and the one index answer as of the log's last
// line, not as of when each happened to read it (the 'stream' clock runs on with the wall).
export const INDEX_FLAGS = ['--users-per-page', '8', '--user-window', '20m', '--presence-window', '5m', '--clock', 'watermark'];
export const INDEX_OPTIONS = { usersPerPage: 8, userWindow: '20m', presenceWindow: '5m', clock: 'watermark' } as const;

/** A seeded workload: mostly in order, one event in 25 up to 30 minutes late, many equal seconds. */
export function workload(count: number, seed: number): string {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  let text = '';
  for (let i = 0; i < count; i++) {
    const user = `10.0.${next() % USERS}.${next() % 3}`;
    const page = `/p${next() % PAGES}${next() % 5 === 0 ? '/x' : ''}`;
    const late = next() % 25 === 0 ? (next() % 1800) * 1000 : 0;
    text += combinedLine(user, page, T0 + Math.floor(i / 4) * 1000 - late, next() % 40 === 0 ? 404 : 200);
  }
  return text;
}

/** A `skiptrail publish` process; stop() sends SIGTERM and resolves with its stderr. */
export function startPublisher(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'publish', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    stderr: () => stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code] = await exited;
      return { code, stderr };
    },
  };
}

