/**
 * What `skiptrail serve` and `skiptrail gateway` share around their HTTP server: the
 * --auth-token-file bearer token (re-read on SIGHUP), listening and printing the
 * address, and the graceful close on SIGINT/SIGTERM (untilSignal, which `skiptrail
 * publish` uses too: a second signal exits at once).
 */

import { once } from 'node:events';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { QueryServer } from '../http/query-server.js';

export const HTTP_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'auth-token-file': { type: 'string' },
} as const;

export const AUTH_HELP = `  --auth-token-file F     require "Authorization: Bearer <token>" on every route but
                          /healthz, the token being F's content (re-read on SIGHUP);
                          use it, or a proxy, before binding beyond loopback`;

export const log = (message: string) => process.stderr.write(`skiptrail: ${message}\n`);

/** The bearer token of --auth-token-file: its content without the trailing newline. */
export class TokenFile {
  #token: string;

  /** Throws (an Error naming the flag) when the file cannot be read, is empty or holds several lines. */
  constructor(readonly file: string) {
    this.#token = TokenFile.read(file);
  }

  get token(): string {
    return this.#token;
  }

  /** Reads the file again; on failure keeps the token read before and says so. */
  reread(): void {
    try {
      this.#token = TokenFile.read(this.file);
    } catch (error) {
      log(`${(error as Error).message}; keeping the token read before`);
    }
  }

  static read(file: string): string {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read --auth-token-file ${file}: ${(error as Error).message}`);
    }
    const token = text.replace(/[\r\n]+$/, '');
    if (token.trim().length === 0) throw new Error(`--auth-token-file ${file} is empty`);
    if (/[\r\n]/.test(token)) throw new Error(`--auth-token-file ${file} must hold one line`);
    return token;
  }
}

const isLoopback = (address: string) => address === '::1' || address.startsWith('127.') || address === '::ffff:127.0.0.1';

/**
 * Listens on host:port and prints "serving http://HOST:PORT" (what scripts and the
 * tests wait for), with a warning when bound beyond loopback without a token.
 * Rejects with "cannot listen on …".
 */
export async function listen(query: QueryServer, port: number, host: string, token: TokenFile | null): Promise<AddressInfo> {
  const server = query.server;
  try {
    server.listen(port, host);
    await once(server, 'listening');
  } catch (error) {
    throw new Error(`cannot listen on ${host}:${port}: ${(error as Error).message}`);
  }
  const address = server.address() as AddressInfo;
  log(`serving http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`);
  if (token === null && !isLoopback(address.address)) {
    log(`warning: serving on ${address.address} without --auth-token-file: anyone who can reach it can read every user's pages (docs/http.md)`);
  }
  return address;
}

export interface CloseOnSignal {
  /** What SIGHUP does besides re-reading the token file (serve: re-check followed files). */
  hangUp?: () => void;
  /** What SIGHUP re-reads besides the token file, said in the log line. */
  hangUpWhat?: string;
  token: TokenFile | null;
  /**
   * Closes everything behind the server, once it has stopped accepting requests;
   * `serverClosed` settles when the requests in flight have ended (or were cut).
   */
  close: (serverClosed: Promise<void>) => Promise<void>;
}

/**
 * Resolves with exit status 0 after SIGINT or SIGTERM has closed the server
 * gracefully: /healthz and /readyz answer 503, idle connections close, requests in
 * flight get two seconds, then `close` runs. A second signal exits at once (status 1).
 */
export function closeOnSignal(query: QueryServer, settings: CloseOnSignal): Promise<number> {
  const { server } = query;
  const { token } = settings;
  const hangUp = () => {
    const what = [settings.hangUpWhat, token === null ? undefined : 're-reading the token file'].filter((part) => part !== undefined);
    log(`SIGHUP: ${what.length === 0 ? 'nothing to re-read' : what.join(' and ')}`);
    settings.hangUp?.();
    token?.reread();
  };
  process.on('SIGHUP', hangUp);
  return untilSignal(async () => {
    process.off('SIGHUP', hangUp);
    query.setDraining();
    const serverClosed = new Promise<void>((done) => server.close(() => done()));
    server.closeIdleConnections();
    // Requests in flight get a moment to finish; then their connections are cut.
    const cut = setTimeout(() => server.closeAllConnections(), 2000);
    cut.unref();
    await settings.close(serverClosed);
  });
}

/**
 * Resolves with exit status 0 once `close` has run after the first SIGINT or SIGTERM
 * (1 if it failed, said on stderr); a second signal exits at once (status 1).
 */
export function untilSignal(close: () => Promise<void>): Promise<number> {
  return new Promise<number>((resolve) => {
    let closing = false;
    const shutdown = (signal: NodeJS.Signals) => {
      if (closing) {
        log(`${signal} again: exiting at once`);
        process.exit(1);
      }
      closing = true;
      log(`${signal}: closing`);
      close().then(
        () => resolve(0),
        (error: Error) => {
          log(`closing: ${error.message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
}
