/**
 * `skiptrail serve`: keeps an index fed live from files, UDP, NATS or standard input,
 * and answers queries over HTTP (docs/http.md) until SIGINT or SIGTERM, which close it
 * gracefully: stop accepting requests, read what the sources hold, print the final
 * report, exit 0.
 */

import { pipeline } from 'node:stream/promises';
import type { ActivityIndex } from '../activity-index.js';
import { parseDuration } from '../duration.js';
import { createQueryServer, type SourceStatus } from '../http/query-server.js';
import { follow } from '../sources/follow.js';
import { subjectMatches, subscribeJetStream } from '../sources/jetstream.js';
import type { PositionedSource, SourcePosition } from '../snapshot.js';
import { checkFollowPosition, checkFollowStart, checkJetStreamPosition, type FollowPosition, type JetStreamPosition } from '../validate.js';
import { AUTH_HELP, closeOnSignal, HTTP_OPTIONS, listen, log, TokenFile } from './http-listen.js';
import { openFromSnapshot, SnapshotKeeper, type SnapshotSettings } from './snapshot-keeper.js';
import type { IngestOptions, IngestReport } from '../sources/ingest-target.js';
import { copyReport, emptyReport, sumReports } from '../sources/ingest-target.js';
import { subscribeNats } from '../sources/nats.js';
import { listenUdp } from '../sources/udp.js';
import { parsePartition, type PartitionSpec } from '../partition.js';
import { DEFAULT_CLUSTER, isClusterName, viewsSubject } from '../cluster/protocol.js';
import { loadNats } from '../load-nats.js';
import type { FeedTransport, RunningShard } from '../cluster/shard.js';
import {
  INDEX_HELP,
  INDEX_OPTIONS,
  INGEST_HELP,
  INGEST_OPTIONS,
  UsageError,
  durationFlag,
  indexOptions,
  ingestOptions,
  integerFlag,
  listFlag,
  openIndex,
  parse,
  stringFlag,
  type Values,
  withFlagNames,
} from './flags.js';

export const SERVE_HELP = `Usage: skiptrail serve [sources] [--port 8080] [--host 127.0.0.1] [options]

Keeps an index fed live and answers queries over HTTP as JSON:
  GET /pages/:page/users?k=30          Q1: last users of a page
  GET /users/:user/pages?window=30m    Q2: pages a user viewed (also limit=, now=)
  GET /pages/:page/online?k=30         Q3: who is on a page now, and how many
  GET /online                          users online anywhere
  POST /views                          record views: one JSON event or NDJSON lines
  GET /stats   GET /healthz   GET /readyz   GET /metrics (Prometheus)
  /readyz answers 503 until every source has read what it held at start.
Keys are percent-encoded: the page /a/b is /pages/%2Fa%2Fb/users.

Sources (any number, all sharing the log format options; with none, the index is
fed only by POST /views, for example from createClient() in several processes):
  --follow FILE           follow a log file like tail -F (repeatable)
  --from end|start|D      where to start in a file that exists already (default end);
                          a duration D (30m): at its first line newer than its last
                          time minus D (found by binary search, not a full read)
  --poll-interval D       check followed files this often besides file events (default 250ms)
  --udp PORT              log lines in UDP datagrams
  --udp-host ADDR         address to bind for --udp (default 127.0.0.1; the group with --multicast)
  --multicast GROUP       join a multicast group (with --udp)
  --multicast-interface ADDR  local interface address to join it on
  --nats URL              a NATS server (with --subject)
  --subject S             the NATS subject carrying log lines
  --queue Q               NATS queue group (share the messages with its other members)
  --jetstream STREAM      with --nats: read the JetStream stream STREAM (ordered
                          consumer; --subject filters it) instead of a core NATS
                          subject: it replays the last --user-window at start, or
                          resumes after the sequence a --snapshot stored
  --stdin                 read log lines from standard input

HTTP:
  --port N                port to listen on (default 8080; 0 picks a free one)
  --host ADDR             address to listen on (default 127.0.0.1)
  --max-body-bytes N      largest POST /views body (default 1048576); larger gets 413
${AUTH_HELP}

Snapshots (docs/persistence.md):
  --snapshot FILE         load FILE at start when it exists, resume every source from
                          the position it stored, save to it every interval and once
                          more on SIGTERM/SIGINT (temporary file, fsync, rename)
  --snapshot-interval D   between two saves (default 60s)
  --snapshot-on-error exit|ignore  a bad FILE at start: exit 2 with the error
                          (default), or start empty and say so

Cluster (docs/scaling.md):
  --partition I/N         be partition I (from 0) of N: index only the views whose user
                          partitionOf(user, N) = I; other lines are counted as
                          other-partition and only move the watermark. With --nats,
                          also answer the cluster's queries for partition I over NATS
                          (connectCluster, skiptrail gateway) and record the views
                          written to it; --subject is then optional
  --cluster NAME          the cluster's name, the first token of its subjects (default skiptrail)

${INGEST_HELP}

${INDEX_HELP}

The listening address is printed on stderr as "skiptrail: serving http://HOST:PORT".
SIGINT or SIGTERM closes gracefully (exit 0); a second signal exits at once (exit 1).
SIGHUP re-checks the followed files (as after a rotation) and re-reads the token file.

Exit status: 0 closed by a signal, 1 a runtime failure (cannot listen, cannot
connect to NATS), 2 a usage error (unknown flag, bad value).
`;

const OPTIONS = {
  ...INDEX_OPTIONS,
  ...INGEST_OPTIONS,
  follow: { type: 'string', multiple: true },
  from: { type: 'string' },
  udp: { type: 'string' },
  'udp-host': { type: 'string' },
  multicast: { type: 'string' },
  'multicast-interface': { type: 'string' },
  nats: { type: 'string' },
  subject: { type: 'string' },
  queue: { type: 'string' },
  stdin: { type: 'boolean' },
  ...HTTP_OPTIONS,
  partition: { type: 'string' },
  cluster: { type: 'string' },
  'poll-interval': { type: 'string' },
  jetstream: { type: 'string' },
  snapshot: { type: 'string' },
  'snapshot-interval': { type: 'string' },
  'snapshot-on-error': { type: 'string' },
} as const;

/** A running source as serve keeps it. */
interface LiveSource extends SourceStatus {
  /** Where it is, for a snapshot (sources that can resume). */
  position?(): SourcePosition | null;
  close(): Promise<IngestReport>;
  /** Whether it has read what it held at start (/readyz). Default: at once. */
  ready?: () => boolean;
  /** What SIGHUP does to it (a followed file: look at the name again). */
  reopen?: () => Promise<void>;
}

interface Plan {
  files: string[];
  from: 'start' | 'end' | number;
  /** With --nats: a JetStream stream to read instead of a core subject. */
  jetstream: string | null;
  snapshot: SnapshotSettings | null;
  pollInterval: number | undefined;
  udp: { port: number; host?: string; multicast?: string; multicastInterface?: string } | null;
  /** A core NATS subject, or with `jetstream` a stream's filter subject (null: the whole stream). */
  nats: { servers: string; subject: string | null; queue?: string } | null;
  /** With --partition and --nats: answer the cluster's queries for this partition. */
  shard: { servers: string; cluster: string } | null;
  stdin: boolean;
  port: number;
  host: string;
  maxBodyBytes: number | undefined;
  partition: PartitionSpec | null;
}

function plan(values: Values): Plan {
  const port = (flag: string, fallback: number | null): number | null => {
    const value = integerFlag(values, flag);
    if (value === undefined) return fallback;
    if (value > 65535) throw new UsageError(`--${flag} must be a port number 0 .. 65535, received ${value}`);
    return value;
  };
  const fromText = stringFlag(values, 'from') ?? 'end';
  const from =
    fromText === 'start' || fromText === 'end'
      ? fromText
      : withFlagNames(() => checkFollowStart(durationFlag(values, 'from'), 'options.from'), { from: 'from' });
  const jetstream = stringFlag(values, 'jetstream') ?? null;
  if (jetstream !== null && stringFlag(values, 'nats') === undefined) throw new UsageError('--jetstream STREAM needs --nats URL');
  if (jetstream !== null && stringFlag(values, 'queue') !== undefined) throw new UsageError('--queue is for core NATS subjects, not --jetstream');
  const snapshotPath = stringFlag(values, 'snapshot');
  const intervalText = durationFlag(values, 'snapshot-interval');
  const onError = stringFlag(values, 'snapshot-on-error');
  if (snapshotPath === undefined && (intervalText !== undefined || onError !== undefined)) {
    throw new UsageError('--snapshot-interval and --snapshot-on-error need --snapshot FILE');
  }
  if (onError !== undefined && onError !== 'exit' && onError !== 'ignore') {
    throw new UsageError(`--snapshot-on-error must be exit or ignore, received ${JSON.stringify(onError)}`);
  }
  const snapshot: SnapshotSettings | null =
    snapshotPath === undefined
      ? null
      : {
          path: snapshotPath,
          intervalMs:
            intervalText === undefined
              ? 60_000
              : withFlagNames(() => parseDuration(intervalText, 'options.snapshotInterval'), { snapshotInterval: 'snapshot-interval' }),
          onError: onError ?? 'exit',
        };
  const udpPort = port('udp', null);
  const multicast = stringFlag(values, 'multicast');
  const udpHost = stringFlag(values, 'udp-host');
  const multicastInterface = stringFlag(values, 'multicast-interface');
  if (udpPort === null && (multicast !== undefined || udpHost !== undefined || multicastInterface !== undefined)) {
    throw new UsageError('--udp-host, --multicast and --multicast-interface need --udp PORT');
  }
  if (multicastInterface !== undefined && multicast === undefined) throw new UsageError('--multicast-interface needs --multicast GROUP');
  const natsUrl = stringFlag(values, 'nats');
  const subject = stringFlag(values, 'subject');
  const queue = stringFlag(values, 'queue');
  const partitionText = stringFlag(values, 'partition');
  if (subject !== undefined && natsUrl === undefined) throw new UsageError('--nats URL and --subject S go together');
  if (natsUrl !== undefined && subject === undefined && partitionText === undefined && jetstream === null) {
    throw new UsageError('--nats URL and --subject S go together (or give --partition I/N to serve as a cluster shard)');
  }
  const cluster = stringFlag(values, 'cluster');
  if (cluster !== undefined && (partitionText === undefined || natsUrl === undefined)) throw new UsageError('--cluster NAME needs --partition I/N and --nats URL');
  if (cluster !== undefined && !isClusterName(cluster)) throw new UsageError(`--cluster must be NATS subject tokens such as skiptrail or site.eu, received ${JSON.stringify(cluster)}`);
  if (queue !== undefined && natsUrl === undefined) throw new UsageError('--queue needs --nats and --subject');
  const files = listFlag(values, 'follow');
  const stdin = values.stdin === true;
  let partition: PartitionSpec | null = null;
  if (partitionText !== undefined) {
    try {
      partition = parsePartition(partitionText, '--partition');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const maxBodyBytes = integerFlag(values, 'max-body-bytes');
  if (maxBodyBytes === 0) throw new UsageError('--max-body-bytes must be at least 1');
  const pollText = durationFlag(values, 'poll-interval');
  const pollInterval = pollText === undefined ? undefined : withFlagNames(() => parseDuration(pollText, 'options.pollInterval'), { pollInterval: 'poll-interval' });
  return {
    files,
    from,
    jetstream,
    snapshot,
    pollInterval,
    udp:
      udpPort === null
        ? null
        : {
            port: udpPort,
            ...(udpHost === undefined ? {} : { host: udpHost }),
            ...(multicast === undefined ? {} : { multicast }),
            ...(multicastInterface === undefined ? {} : { multicastInterface }),
          },
    nats:
      subject === undefined && jetstream === null
        ? null
        : { servers: natsUrl!, subject: subject ?? null, ...(queue === undefined ? {} : { queue }) },
    shard: partition !== null && natsUrl !== undefined ? { servers: natsUrl, cluster: cluster ?? DEFAULT_CLUSTER } : null,
    stdin,
    port: port('port', 8080)!,
    host: stringFlag(values, 'host') ?? '127.0.0.1',
    maxBodyBytes,
    partition,
  };
}

/** "1 check", "2 checks". */
const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

export async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (files go after --follow)`);
  const settings = plan(values);
  const tokenFile = stringFlag(values, 'auth-token-file');
  const token = tokenFile === undefined ? null : new TokenFile(tokenFile);
  let positions: Record<string, SourcePosition> = {};
  let index: ActivityIndex;
  const restored = settings.snapshot === null ? null : await openFromSnapshot(settings.snapshot, withFlagNames(() => indexOptions(values)), log);
  if (restored !== null) {
    index = restored.index;
    positions = restored.positions;
  } else {
    index = openIndex(values);
  }
  const options = ingestOptions(values, index.options.maxKeyBytes);
  if (settings.partition !== null) options.partition = settings.partition;
  try {
    withFlagNames(() => index.ingest('', options));
  } catch (error) {
    index.close();
    throw error;
  }

  const sources: LiveSource[] = [];
  let sourcesOpen = false;
  const sourcesReady = () => sourcesOpen && sources.every((source) => source.ready?.() ?? true);
  let shard: ClusterShard | null = null;
  try {
    let sourceSettings = settings;
    if (settings.shard !== null) {
      shard = await startClusterShard(index, settings, positions, sourcesReady);
      sources.push(...shard.feeds);
      // A stream that holds the publisher's S.<p> but not raw lines on S: nothing raw to read.
      if (!shard.rawInStream) sourceSettings = { ...settings, nats: null, jetstream: null };
    }
    await startSources(index, sourceSettings, options, sources, positions);
    sourcesOpen = true;
  } catch (error) {
    await shard?.close();
    await Promise.allSettled(sources.map((source) => source.close()));
    index.close();
    throw error;
  }
  const shardDetails = shard === null ? undefined : { ...settings.shard!, partition: settings.partition!.index, partitions: settings.partition!.count };
  const keeper =
    settings.snapshot === null
      ? null
      : new SnapshotKeeper(index, settings.snapshot, () => positioned(sources), log);
  keeper?.start();
  const query = createQueryServer(index, {
    sources: () => sources.map(status),
    ...(shard === null && keeper === null
      ? {}
      : {
          statsDetails: () => ({
            ...(shard === null ? {} : { shard: { ...shardDetails, ...shard.running.stats() } }),
            ...(keeper === null ? {} : { snapshot: keeper.status() }),
          }),
        }),
    ...(keeper === null ? {} : { metricsDetails: (out) => keeper.render(out) }),
    ...(settings.maxBodyBytes === undefined ? {} : { maxBodyBytes: settings.maxBodyBytes }),
    ...(settings.partition === null ? {} : { partition: settings.partition }),
    notReady: () => [
      ...sources.filter((source) => source.ready !== undefined && !source.ready()).map((source) => source.name),
      ...(shard === null || shard.answering() ? [] : [`partition ${settings.partition!.index} queries`]),
    ],
    ...(token === null ? {} : { authToken: () => token.token }),
  });
  try {
    await listen(query, settings.port, settings.host, token);
  } catch (error) {
    await shard?.close();
    await Promise.allSettled(sources.map((source) => source.close()));
    index.close();
    throw error;
  }
  return closeOnSignal(query, {
    token,
    hangUpWhat: 're-checking followed files',
    hangUp: () => {
      for (const source of sources) void source.reopen?.();
    },
    close: async (serverClosed) => {
      await shard?.close();
      const reports = await Promise.all(
        sources.map((source) =>
          source.close().catch((error: Error) => {
            log(`${source.name}: ${error.message}`);
            return source.report;
          }),
        ),
      );
      await serverClosed;
      await keeper?.stop();
      const total = sumReports(reports);
      log(
        `closed: ${plural(total.lines, 'line')}, ${total.accepted} accepted, ${total.rejected} rejected, ${total.late} late; ${plural(index.stats().events, 'event')} indexed`,
      );
      index.close();
    },
  });
}

/** The sources that can say where they are, for a snapshot. */
function positioned(sources: readonly LiveSource[]): PositionedSource[] {
  return sources.filter((source) => source.position !== undefined).map((source) => ({ name: source.name, position: () => source.position!() }));
}

/** A stored position for `name` that `check` accepts, or undefined (said on stderr). */
function storedPosition<T>(positions: Record<string, SourcePosition>, name: string, check: (value: unknown, name: string) => T): T | undefined {
  const stored = positions[name];
  if (stored === undefined) return undefined;
  try {
    return check(stored, `position of ${name}`);
  } catch (error) {
    log(`${name}: the snapshot's position is unusable (${(error as Error).message}); starting afresh`);
    return undefined;
  }
}

async function startSources(
  index: ActivityIndex,
  settings: Plan,
  options: IngestOptions,
  sources: LiveSource[],
  positions: Record<string, SourcePosition>,
): Promise<void> {
  for (const file of settings.files) {
    const resume = storedPosition<FollowPosition>(positions, `follow:${file}`, checkFollowPosition);
    const follower = follow(index, file, {
      ...options,
      from: settings.from,
      ...(resume === undefined ? {} : { resume }),
      ...(settings.pollInterval === undefined ? {} : { pollInterval: settings.pollInterval }),
    });
    follower.on('resumeGap', (gap: { message: string }) => log(`follow ${file}: resume gap: ${gap.message}`));
    follower.on('warning', (error: Error) => log(`follow ${file}: ${error.message}`));
    follower.on('rotate', () => log(`follow ${file}: rotated, reading the new file`));
    follower.on('truncate', () => log(`follow ${file}: truncated, reading from the start`));
    follower.on('missing', () => {
      const { missingChecks } = follower.stats();
      log(
        missingChecks === 1
          ? `follow ${file}: the file does not exist; it will be read from its start when it appears`
          : `follow ${file}: still missing (${plural(missingChecks, 'check')})`,
      );
    });
    sources.push({
      name: `follow:${file}`,
      get report() {
        return follower.report;
      },
      get bytes() {
        return follower.stats().bytes;
      },
      get counters() {
        const { rotations, truncations, skippedNulBytes, missingChecks } = follower.stats();
        return { rotations, truncations, skippedNulBytes, missingChecks };
      },
      get details() {
        const { path, position, pendingBytes, open, missing, caughtUp, resumeGap } = follower.stats();
        return { path, position, pendingBytes, open, missing, caughtUp, ...(resumeGap === null ? {} : { resumeGap: resumeGap.message }) };
      },
      ready: () => follower.stats().caughtUp,
      reopen: () => follower.reopen(),
      position: () => follower.position(),
      close: () => follower.close(),
    });
    const start =
      resume !== undefined
        ? `resuming at byte ${resume.offset} of the file with inode ${resume.ino}`
        : typeof settings.from === 'number'
          ? `from its lines of the last ${settings.from / 1000} s`
          : `from ${settings.from}`;
    log(`following ${file} (${start})`);
  }
  if (settings.udp !== null) {
    let udp;
    try {
      udp = await listenUdp(index, { ...options, ...settings.udp });
    } catch (error) {
      throw new Error(`cannot listen for UDP on port ${settings.udp.port}: ${(error as Error).message}`);
    }
    const where = `${udp.address.address}:${udp.address.port}`;
    sources.push({
      name: `udp:${where}`,
      get report() {
        return udp.report;
      },
      get bytes() {
        return udp.stats().bytes;
      },
      get counters() {
        return { datagrams: udp.stats().datagrams };
      },
      details: { address: udp.address.address, port: udp.address.port, ...(settings.udp.multicast === undefined ? {} : { multicast: settings.udp.multicast }) },
      close: () => udp.close(),
    });
    log(`listening for log lines on udp ${where}${settings.udp.multicast === undefined ? '' : ` (group ${settings.udp.multicast})`}`);
  }
  if (settings.nats !== null && settings.jetstream !== null) {
    const { servers, subject } = settings.nats;
    const stream = settings.jetstream;
    const name = `jetstream:${stream}${subject === null ? '' : `:${subject}`}`;
    const resume = storedPosition<JetStreamPosition>(positions, name, checkJetStreamPosition);
    let js;
    try {
      js = await subscribeJetStream(index, {
        ...options,
        servers,
        stream,
        ...(subject === null ? {} : { subject }),
        ...(resume === undefined ? {} : { resume }),
        connect: { name: 'skiptrail serve', maxReconnectAttempts: -1, reconnectTimeWait: 500 },
      });
    } catch (error) {
      throw new Error(`cannot read the JetStream stream ${stream} on ${servers}: ${(error as Error).message}`);
    }
    sources.push({
      name,
      get report() {
        return js.report;
      },
      get bytes() {
        return js.stats().bytes;
      },
      get counters() {
        const stats = js.stats();
        return { messages: stats.messages, reconnects: stats.reconnects, disconnects: stats.disconnects };
      },
      get details() {
        const stats = js.stats();
        return { stream, subject, sequence: stats.sequence, caughtUp: stats.caughtUp, server: stats.server, ...(stats.resumeGap === null ? {} : { resumeGap: stats.resumeGap }) };
      },
      position: () => js.position(),
      ready: () => js.stats().caughtUp,
      close: () => js.close(),
    });
    log(
      `reading JetStream stream ${stream}${subject === null ? '' : ` (${subject})`} on ${servers}, ` +
        (resume === undefined ? `from the last ${index.options.userWindow / 1000} s` : `after sequence ${resume.sequence}`),
    );
  } else if (settings.nats !== null && settings.nats.subject !== null) {
    const { servers, subject, queue } = settings.nats;
    let nats;
    try {
      nats = await subscribeNats(index, {
        ...options,
        servers,
        subject,
        ...(queue === undefined ? {} : { queue }),
        connect: { name: 'skiptrail serve', maxReconnectAttempts: -1, reconnectTimeWait: 500 },
      });
    } catch (error) {
      throw new Error(`cannot subscribe to ${subject} on ${servers}: ${(error as Error).message}`);
    }
    sources.push({
      name: `nats:${subject}`,
      get report() {
        return nats.report;
      },
      get bytes() {
        return nats.stats().bytes;
      },
      get counters() {
        const stats = nats.stats();
        return { messages: stats.messages, reconnects: stats.reconnects, disconnects: stats.disconnects };
      },
      get details() {
        return { subject, server: nats.stats().server };
      },
      close: () => nats.close(),
    });
    log(`subscribed to ${subject} on ${servers}`);
  }
  if (sources.length === 0 && !settings.stdin) log('no log source: recording only what POST /views receives');
  if (settings.stdin) {
    const sink = index.createIngestStream(options);
    let bytes = 0;
    let stopping = false;
    const counting = async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        bytes += chunk.length;
        yield chunk;
      }
    };
    const done = pipeline(process.stdin, counting, sink).then(
      () => log('standard input ended; still serving'),
      (error: Error) => {
        if (!stopping) log(`standard input: ${error.message}`);
      },
    );
    sources.push({
      name: 'stdin',
      get report() {
        return sink.report;
      },
      get bytes() {
        return bytes;
      },
      close: async () => {
        stopping = true;
        if (!sink.writableFinished) process.stdin.destroy();
        await done;
        return copyReport(sink.report);
      },
    });
  }
}

interface ClusterShard {
  running: RunningShard;
  /** Whether it has joined its partition's query group (/readyz waits for it too). */
  answering(): boolean;
  /** The publisher's S.<I> and, from JetStream, the views written to the partition. */
  feeds: LiveSource[];
  /** With --jetstream: whether the stream holds raw lines on --subject (else they are not read from it). */
  rawInStream: boolean;
  close(): Promise<void>;
}

/**
 * Answers the cluster's queries for this partition over NATS (src/cluster/shard.ts) and
 * reads its feeds: the publisher's S.<I> (with --subject) and the views written to
 * C.views.<I>, each from the --jetstream stream when it holds that subject (replayed
 * after a restart: after the snapshot's sequence, or the last --user-window), else
 * from core NATS. It joins the partition's query group once `ready()` (every source of
 * the process has read what it held at start): a replaying replica answers nothing
 * rather than an incomplete answer.
 */
async function startClusterShard(index: ActivityIndex, settings: Plan, positions: Record<string, SourcePosition>, ready: () => boolean): Promise<ClusterShard> {
  const { servers, cluster } = settings.shard!;
  const partition = settings.partition!;
  const nats = await loadNats('serve --partition with --nats');
  let connection;
  try {
    connection = await nats.connect({ servers, name: `skiptrail shard ${partition.index}/${partition.count}`, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${servers}: ${(error as Error).message}`);
  }
  const stream = settings.jetstream;
  const rawSubject = settings.nats?.subject ?? null;
  let held: string[] = [];
  if (stream !== null) {
    try {
      held = (await (await connection.jetstreamManager()).streams.info(stream)).config.subjects ?? [];
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw new Error(`cannot read the JetStream stream ${stream} on ${servers}: ${(error as Error).message}`);
    }
  }
  const inStream = (subject: string) => held.some((pattern) => subjectMatches(pattern, subject));
  /** Where a feed of `subject` comes from; `what` names it in the log. */
  const transport = (subject: string, what: string): FeedTransport => {
    if (stream === null || !inStream(subject)) {
      if (stream !== null) log(`shard: the stream ${stream} does not hold ${subject}: reading ${what} from core NATS`);
      return { kind: 'core' };
    }
    const resume = storedPosition<JetStreamPosition>(positions, `jetstream:${stream}:${subject}`, checkJetStreamPosition);
    log(`shard: reading ${what} from JetStream stream ${stream} (${subject}), ${resume === undefined ? `from the last ${index.options.userWindow / 1000} s` : `after sequence ${resume.sequence}`}`);
    return { kind: 'jetstream', nats, stream, start: resume === undefined ? { since: Date.now() - index.options.userWindow } : { after: resume.sequence } };
  };
  const { startShard, subscribePartitionFeed } = await import('../cluster/shard.js');
  const warn = (message: string) => log(`shard: ${message}`);
  const feeds: LiveSource[] = [];
  let running: RunningShard | null = null;
  let joinedQueries = false;
  const close = async () => {
    await running?.close();
    await connection.drain().catch(() => undefined);
  };
  try {
    const views = viewsSubject(cluster, partition.index);
    const viewsTransport = transport(views, 'the views written to this partition');
    // Queries are answered once every source has read what it held at start (`ready`).
    running = await startShard(index, connection, partition, cluster, warn, viewsTransport, ready);
    const answering = `answering partition ${partition.index} of ${partition.count} on ${cluster}.query.${partition.index} (${servers})`;
    void running.answering.then((joined) => {
      if (!joined) return;
      joinedQueries = true;
      log(`shard: ${answering}`);
    });
    if (viewsTransport.kind === 'jetstream') {
      const shard = running;
      const base = (storedPosition<JetStreamPosition>(positions, `jetstream:${stream}:${views}`, checkJetStreamPosition)?.report) ?? emptyReport();
      const report = (): IngestReport => {
        const { viewsRecorded, viewsRefused } = shard.stats();
        return sumReports([base, { ...emptyReport(), lines: viewsRecorded + viewsRefused, accepted: viewsRecorded, rejected: viewsRefused }]);
      };
      feeds.push({
        name: `jetstream:${stream}:${views}`,
        get report() {
          return report();
        },
        details: { stream, subject: views, written: true },
        ready: () => shard.viewsCaughtUp(),
        position: () => ({ kind: 'jetstream', stream: stream!, subject: views, sequence: shard.viewsSequence(), report: report() }),
        close: async () => report(),
      });
    }
    if (rawSubject !== null) {
      const subject = `${rawSubject}.${partition.index}`;
      const feedTransport = transport(subject, "the publisher's views of this partition");
      const subscribed = await subscribePartitionFeed(index, connection, subject, partition, warn, feedTransport);
      const name = feedTransport.kind === 'jetstream' ? `jetstream:${stream}:${subject}` : `nats:${subject}`;
      const base = feedTransport.kind === 'jetstream' ? storedPosition<JetStreamPosition>(positions, name, checkJetStreamPosition)?.report : undefined;
      const report = () => (base === undefined ? subscribed.report : sumReports([base, subscribed.report]));
      feeds.push({
        name,
        get report() {
          return report();
        },
        get bytes() {
          return subscribed.stats().bytes;
        },
        get counters() {
          const { messages, mismatchedBatches } = subscribed.stats();
          return { messages, mismatchedBatches };
        },
        get details() {
          const { sequence, resumeGap } = subscribed.stats();
          return { subject, publisher: true, ...(stream === null || feedTransport.kind === 'core' ? {} : { stream, sequence }), ...(resumeGap === null ? {} : { resumeGap }) };
        },
        ...(feedTransport.kind === 'jetstream'
          ? { position: () => ({ kind: 'jetstream' as const, stream: stream!, subject, sequence: subscribed.stats().sequence, report: copyReport(report()) }) }
          : {}),
        ready: () => subscribed.stats().caughtUp,
        close: async () => {
          await subscribed.close();
          return copyReport(report());
        },
      });
      if (feedTransport.kind === 'core') log(`subscribed to ${subject} (the publisher's views of partition ${partition.index}) on ${servers}`);
    }
  } catch (error) {
    await Promise.allSettled(feeds.map((feed) => feed.close()));
    await close();
    throw error;
  }
  return { running, answering: () => joinedQueries, feeds, rawInStream: stream === null || rawSubject === null || inStream(rawSubject), close };
}

function status(source: LiveSource): SourceStatus {
  return {
    name: source.name,
    report: source.report,
    ...(source.bytes === undefined ? {} : { bytes: source.bytes }),
    ...(source.counters === undefined ? {} : { counters: source.counters }),
    ...(source.details === undefined ? {} : { details: source.details }),
  };
}
