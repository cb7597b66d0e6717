/**
 * `skiptrail publish`: follows log files, parses them natively and publishes each
 * partition's views to `<subject>.<p>` on NATS (src/cluster/publisher.ts), for the
 * shards `skiptrail serve --nats URL --subject S --partition I/N` (docs/scaling.md).
 * Runs until SIGINT or SIGTERM, which read what the files hold, publish it, flush, and
 * print what was published and what could not be.
 */

import { DEFAULT_CLUSTER, isClusterName } from '../cluster/protocol.js';
import { log, untilSignal } from './http-listen.js';
import { parseDuration } from '../duration.js';
import { resolveIngestOptions } from '../ingest.js';
import { loadNats } from '../load-nats.js';
import { MAX_PARTITIONS } from '../partition.js';
import { follow, type Follower } from '../sources/follow.js';
import { sumReports } from '../sources/ingest-target.js';
import { INGEST_HELP, INGEST_OPTIONS, UsageError, durationFlag, ingestOptions, integerFlag, listFlag, parse, stringFlag, withFlagNames } from './flags.js';

export const PUBLISH_HELP = `Usage: skiptrail publish --follow FILE --nats URL --subject S --partitions N [options]

Follows log files like tail -F, parses each line natively, and publishes the views of
partition p (partitionOf(user, N) = p) as NDJSON to S.<p>, in batched messages that
carry the latest event time. Shards started with
  skiptrail serve --nats URL --subject S --partition I/N
read S.<I> only: 1/N of the views each (docs/scaling.md).

Options:
  --follow FILE           a log file to follow (repeatable)
  --from end|start        where to start in a file that exists already (default end)
  --poll-interval D       check followed files this often besides file events (default 250ms)
  --nats URL              the NATS server (required)
  --subject S             the subject prefix: views of partition p go to S.<p> (required)
  --partitions N          the number of partitions, as the shards were started with (required)
  --jetstream             publish into the JetStream stream that captures S.> (it must
                          exist): each batch waits for the stream's acknowledgement, and a
                          restarted publisher resumes each file where every partition
                          stopped (the positions its last message stored), so nothing is
                          lost or published twice; --from then applies only to files the
                          stream has nothing of
  --cluster NAME          the shards' cluster name, to check their N at start (default skiptrail)

${INGEST_HELP}

Core NATS delivers at most once: views that cannot be published (no connection for
longer than the client's reconnect buffer holds) are counted and reported, and the
final line says how far each file was read. Recording a view twice changes no answer,
so a core NATS publisher restarted with --from start loses nothing and doubles no
answer (though the shards' event counts double); with --jetstream nothing doubles.

Exit status: 0 closed by a signal, 1 a runtime failure (cannot connect to NATS),
2 a usage error.
`;

const OPTIONS = {
  ...INGEST_OPTIONS,
  follow: { type: 'string', multiple: true },
  from: { type: 'string' },
  'poll-interval': { type: 'string' },
  nats: { type: 'string' },
  subject: { type: 'string' },
  partitions: { type: 'string' },
  jetstream: { type: 'boolean' },
  cluster: { type: 'string' },
} as const;


export async function publish(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (files go after --follow)`);
  const files = listFlag(values, 'follow');
  if (files.length === 0) throw new UsageError('give at least one --follow FILE');
  const servers = stringFlag(values, 'nats');
  if (servers === undefined) throw new UsageError('--nats URL is required');
  const subject = stringFlag(values, 'subject');
  if (subject === undefined || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subject)) {
    throw new UsageError(`--subject must be NATS subject tokens such as logs, received ${JSON.stringify(subject ?? '')}`);
  }
  const partitions = integerFlag(values, 'partitions');
  if (partitions === undefined) throw new UsageError('--partitions N is required (the N the shards were started with)');
  if (partitions < 1 || partitions > MAX_PARTITIONS) throw new UsageError(`--partitions must be in 1 .. ${MAX_PARTITIONS}, received ${partitions}`);
  const clusterName = stringFlag(values, 'cluster') ?? DEFAULT_CLUSTER;
  if (!isClusterName(clusterName)) throw new UsageError(`--cluster must be NATS subject tokens such as skiptrail or site.eu, received ${JSON.stringify(clusterName)}`);
  const from = stringFlag(values, 'from') ?? 'end';
  if (from !== 'start' && from !== 'end') throw new UsageError(`--from must be start or end, received ${JSON.stringify(from)}`);
  const pollText = durationFlag(values, 'poll-interval');
  const pollInterval = pollText === undefined ? undefined : withFlagNames(() => parseDuration(pollText, 'options.pollInterval'), { pollInterval: 'poll-interval' });
  const options = ingestOptions(values, 65_535);
  withFlagNames(() => resolveIngestOptions(options, 65_535));

  const nats = await loadNats('skiptrail publish');
  let connection;
  try {
    connection = await nats.connect({ servers, name: 'skiptrail publish', maxReconnectAttempts: -1, reconnectTimeWait: 500 });
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${servers}: ${(error as Error).message}`);
  }
  const { PartitionPublisher, storedPositions } = await import('../cluster/publisher.js');
  const { checkShardCount } = await import('../cluster/client.js');
  const { natsTransport } = await import('../cluster/transport.js');
  let stored: Awaited<ReturnType<typeof storedPositions>> | null;
  try {
    await checkShardCount(natsTransport(nats, connection, clusterName, false), clusterName, partitions, 'this publisher');
    stored = values.jetstream === true ? await storedPositions(connection, subject, partitions) : null;
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
  const publisher = new PartitionPublisher(nats, connection, subject, partitions, log, stored === null ? null : { positions: stored.positions });
  const followers: { file: string; follower: Follower }[] = [];
  for (const file of files) {
    const resume = stored === null ? null : await publisher.catchUp(file, options);
    const follower = follow(publisher, file, { ...options, from, ...(resume === null ? {} : { resume }), ...(pollInterval === undefined ? {} : { pollInterval }) });
    follower.on('warning', (error: Error) => log(`follow ${file}: ${error.message}`));
    follower.on('rotate', () => log(`follow ${file}: rotated, reading the new file`));
    follower.on('truncate', () => log(`follow ${file}: truncated, reading from the start`));
    follower.on('resumeGap', (gap: { message: string }) => log(`follow ${file}: resume gap: ${gap.message}`));
    const start = resume === null ? `from ${from}` : `resuming at byte ${resume.offset}, where the stream ${stored!.stream} has it to`;
    log(`publishing ${file} (${start}) to ${subject}.<0..${partitions - 1}> on ${servers}${stored === null ? '' : ' through JetStream'}`);
    followers.push({ file, follower });
  }

  return untilSignal(async () => {
    const reports = await Promise.all(
      followers.map(({ file, follower }) =>
        follower.close().catch((error: Error) => {
          log(`follow ${file}: ${error.message}`);
          return follower.report;
        }),
      ),
    );
    const stats = await publisher.close();
    await connection.close().catch(() => undefined);
    const total = sumReports(reports);
    const positions = followers.map(({ file, follower }) => `${file} read to byte ${follower.stats().position}`).join(', ');
    log(
      `closed: ${total.lines} lines, ${total.accepted} views, ${total.rejected} rejected; ${stats.published} views published in ${stats.messages} messages, ${stats.undelivered} undelivered; ${positions}`,
    );
  });
}
