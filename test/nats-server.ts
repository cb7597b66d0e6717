// A real nats-server for the NATS, JetStream and cluster tests: Debian's package (scripts/ensure-nats.sh
// installs it; .ci/run calls that), started on 127.0.0.1 and a free port, stopped by
// its own PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, waitFor } from './live-helpers.js';

/** The nats-server binary on this machine, or null (no install attempted). */
export function findNatsServer(): string | null {
  const found = spawnSync('bash', ['-c', 'command -v nats-server || ls /usr/sbin/nats-server /usr/local/bin/nats-server 2>/dev/null'], { encoding: 'utf8' });
  const first = found.stdout.split('\n').find((line) => line.trim().length > 0);
  return first !== undefined && fs.existsSync(first.trim()) ? first.trim() : null;
}

/** The nats-server binary, installed by scripts/ensure-nats.sh when missing; null if it cannot be. */
export function ensureNatsServer(): string | null {
  const existing = findNatsServer();
  if (existing !== null) return existing;
  spawnSync('bash', [path.join(ROOT, 'scripts', 'ensure-nats.sh')], { stdio: 'inherit', timeout: 300_000 });
  return findNatsServer();
}

/** Whether tests that need nats-server must run (CI) rather than be skipped. */
export const NATS_REQUIRED = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

export class NatsServer {
  #child: ChildProcess | null = null;
  constructor(
    readonly binary: string,
    readonly port: number,
    /** With a folder: JetStream on (-js), its store there. */
    readonly jetStreamDir?: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const env = { ...process.env };
    delete env.LD_PRELOAD; // the broker is not under test (npm run test:asan)
    const js = this.jetStreamDir === undefined ? [] : ['-js', '-sd', this.jetStreamDir];
    const child = spawn(this.binary, ['-a', '127.0.0.1', '-p', String(this.port), ...js], { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.#child = child;
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      () => output,
      (text) => {
        if (child.exitCode !== null) throw new Error(`nats-server exited: ${text}`);
        return text.includes('Server is ready');
      },
      { what: 'nats-server to be ready' },
    );
  }

  /** Stops the process by its PID; SIGTERM lets a JetStream server close its store. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child === null || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  }
}
