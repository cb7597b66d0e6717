/**
 * `skiptrail gateway`: the HTTP API of `serve` (docs/http.md), answered by a cluster of
 * partitioned shards over NATS (connectCluster). The route table is serve's own
 * (createQueryServer); its backend is the cluster client, whose answers are promises.
 * A partition that does not answer is a 503 naming it; POST /views writes each view to
 * its partition.
 */

import type { ClusterClient } from '../cluster/client.js';
import { DEFAULT_CLUSTER, isClusterName } from '../cluster/protocol.js';
import { HttpError, createQueryServer, type QueryBackend } from '../http/query-server.js';
import { MAX_PARTITIONS } from '../partition.js';
import { AUTH_HELP, closeOnSignal, HTTP_OPTIONS, listen, log, TokenFile } from './http-listen.js';
import { UsageError, integerFlag, parse, stringFlag } from './flags.js';

export const GATEWAY_HELP = `Usage: skiptrail gateway --nats URL --partitions N [--port 8080] [options]

Answers the HTTP API of 'skiptrail serve' (docs/http.md) from a cluster of N
partitions, each served by 'skiptrail serve --partition I/N --nats URL' (docs/scaling.md):
Q2 from the partition owning the user, Q1 and Q3 merged from all of them. A partition
that does not answer is a 503 naming it. POST /views writes each view to its partition.

Options:
  --nats URL              the NATS server the shards use (required)
  --partitions N          the number of partitions, as the shards were started with (required)
  --cluster NAME          the cluster's name, the first token of its subjects (default skiptrail)
  --timeout MS            how long each partition has to answer (default 2000)
  --jetstream             write POST /views through JetStream: answer once the stream
                          capturing <cluster>.views.<p> has stored them (shards started
                          with --jetstream replay them after a restart); 503 EWRITE if not
  --port N                port to listen on (default 8080; 0 picks a free one)
  --host ADDR             address to listen on (default 127.0.0.1)
  --max-key-bytes N       longest key POST /views accepts (default 1024; the shards check theirs)
  --max-body-bytes N      largest POST /views body (default 1048576); larger gets 413
${AUTH_HELP}

GET /readyz answers 503 naming the partitions that do not answer (or answer with
another N) until every one of them does.
The listening address is printed on stderr as "skiptrail: serving http://HOST:PORT".
SIGINT or SIGTERM closes gracefully (exit 0); a second signal exits at once (exit 1).
SIGHUP re-reads the token file.

Exit status: 0 closed by a signal, 1 a runtime failure (cannot listen, cannot
connect to NATS), 2 a usage error.
`;

const OPTIONS = {
  nats: { type: 'string' },
  partitions: { type: 'string' },
  cluster: { type: 'string' },
  timeout: { type: 'string' },
  jetstream: { type: 'boolean' },
  ...HTTP_OPTIONS,
  'max-key-bytes': { type: 'string' },
} as const;

/** The cluster client as the routes' backend: an unreachable partition is a 503. */
export function clusterBackend(cluster: ClusterClient, maxKeyBytes: number): QueryBackend {
  const unavailable = (error: unknown): never => {
    const code = (error as { code?: unknown })?.code;
    if ((error as Error)?.name === 'ClusterError' && (code === 'EPARTITION' || code === 'EPARTITIONS' || code === 'EWRITE')) {
      throw new HttpError(503, (error as Error).message, { code, partitions: (error as { partitions: number[] }).partitions });
    }
    throw error;
  };
  return {
    options: { maxKeyBytes },
    lastUsers: (page, k) => cluster.lastUsers(page, k).catch(unavailable),
    userPages: (user, options) => cluster.userPages(user, options).catch(unavailable),
    onlineUsers: (page, k) => cluster.onlineUsers(page, k).catch(unavailable),
    onlineCount: (page) => cluster.onlineCount(page).catch(unavailable),
    stats: () => cluster.stats().catch(unavailable),
    recordMany: (events) => cluster.recordMany(events).catch(unavailable),
  };
}

export async function gateway(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const servers = stringFlag(values, 'nats');
  if (servers === undefined) throw new UsageError('--nats URL is required');
  const partitions = integerFlag(values, 'partitions');
  if (partitions === undefined) throw new UsageError('--partitions N is required (the N the shards were started with)');
  if (partitions < 1 || partitions > MAX_PARTITIONS) throw new UsageError(`--partitions must be in 1 .. ${MAX_PARTITIONS}, received ${partitions}`);
  const clusterName = stringFlag(values, 'cluster') ?? DEFAULT_CLUSTER;
  if (!isClusterName(clusterName)) throw new UsageError(`--cluster must be NATS subject tokens such as skiptrail or site.eu, received ${JSON.stringify(clusterName)}`);
  const timeout = integerFlag(values, 'timeout') ?? 2000;
  if (timeout < 1) throw new UsageError('--timeout must be at least 1 (ms)');
  const port = integerFlag(values, 'port') ?? 8080;
  if (port > 65535) throw new UsageError(`--port must be a port number 0 .. 65535, received ${port}`);
  const host = stringFlag(values, 'host') ?? '127.0.0.1';
  const maxKeyBytes = integerFlag(values, 'max-key-bytes') ?? 1024;
  if (maxKeyBytes < 1 || maxKeyBytes > 65535) throw new UsageError(`--max-key-bytes must be in 1 .. 65535, received ${maxKeyBytes}`);
  const maxBodyBytes = integerFlag(values, 'max-body-bytes');
  if (maxBodyBytes === 0) throw new UsageError('--max-body-bytes must be at least 1');

  const tokenFile = stringFlag(values, 'auth-token-file');
  const token = tokenFile === undefined ? null : new TokenFile(tokenFile);

  const { connectCluster } = await import('../cluster/client.js');
  let cluster: ClusterClient;
  try {
    cluster = await connectCluster({ servers, partitions, timeout, cluster: clusterName, jetstream: values.jetstream === true, connect: { name: 'skiptrail gateway', reconnectTimeWait: 500 } });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EPARTITIONS') throw error;
    throw new Error(`cannot connect to NATS at ${servers}: ${(error as Error).message}`);
  }
  const query = createQueryServer(clusterBackend(cluster, maxKeyBytes), {
    ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
    statsDetails: () => ({ cluster: { name: clusterName, partitions, servers } }),
    notReady: () => unanswered(cluster),
    ...(token === null ? {} : { authToken: () => token.token }),
  });
  try {
    await listen(query, port, host, token);
  } catch (error) {
    await cluster.close();
    throw error;
  }
  log(`gateway for ${partitions} partitions of cluster ${clusterName} on ${servers}`);
  return closeOnSignal(query, {
    token,
    close: async (serverClosed) => {
      await serverClosed;
      await cluster.close();
      log('closed');
    },
  });
}

/** The partitions that do not answer, or answer for another N, as /readyz lists them. */
async function unanswered(cluster: ClusterClient): Promise<string[]> {
  try {
    await cluster.onlineCount();
    return [];
  } catch (error) {
    const { code, partitions } = error as { code?: unknown; partitions?: number[] };
    if (code === 'EPARTITION') return (partitions ?? []).map((partition) => `partition ${partition}`);
    if (code === 'EPARTITIONS') return [(error as Error).message];
    throw error;
  }
}
