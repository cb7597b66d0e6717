/**
 * The NATS connection a source reads from, shared by the core NATS (nats.ts) and
 * JetStream (jetstream.ts) sources: the given one, or a new one that reconnects for
 * ever (and that the source then owns and drains on close), with its reconnects and
 * disconnects counted.
 */

import type { ConnectionOptions, NatsConnection } from 'nats';
import { typeError } from '../errors.js';
import { loadNats, type NatsModule } from '../load-nats.js';

export interface ConnectionStats {
  /** Times the client reconnected to a server. */
  reconnects: number;
  /** Times the connection was lost. */
  disconnects: number;
  /** The server the client is connected to now, or null while disconnected. */
  server: string | null;
}

export interface SourceConnection {
  nats: NatsModule;
  connection: NatsConnection;
  /** Whether the source opened it (and so closes it). */
  owned: boolean;
  /** Live counts, updated as the connection's status changes. */
  counts: ConnectionStats;
}

/** Checks `servers` and `connect` (before anything is opened). */
export function checkConnectionOptions(given: { servers?: unknown; connect?: unknown }): void {
  if (given.servers !== undefined && typeof given.servers !== 'string' && !Array.isArray(given.servers)) {
    throw typeError('options.servers', 'a URL string or an array of them', given.servers);
  }
  if (given.connect !== undefined && (typeof given.connect !== 'object' || given.connect === null)) {
    throw typeError('options.connect', 'an object', given.connect);
  }
}

/** `options.connection`, or a new connection to `options.servers`; `caller` names who needs the client. */
export async function openSourceConnection(
  options: { servers?: string | string[]; connection?: NatsConnection; connect?: ConnectionOptions },
  caller: string,
): Promise<SourceConnection> {
  const nats = await loadNats(caller);
  const owned = options.connection === undefined;
  const connection =
    options.connection ??
    (await nats.connect({
      maxReconnectAttempts: -1,
      ...options.connect,
      ...(options.servers === undefined ? {} : { servers: options.servers }),
    }));
  const counts: ConnectionStats = { reconnects: 0, disconnects: 0, server: connection.getServer() };
  void (async () => {
    for await (const status of connection.status()) {
      if (status.type === 'reconnect') {
        counts.reconnects++;
        counts.server = connection.getServer();
      } else if (status.type === 'disconnect') {
        counts.disconnects++;
        counts.server = null;
      }
    }
  })().catch(() => undefined);
  return { nats, connection, owned, counts };
}
