/**
 * subscribeNats(index, options): feeds an index from a NATS subject whose messages each
 * hold one or more whole log lines. Any number of indexes (in this process or others)
 * can subscribe to the same subject: each gets every message. With `queue`, the
 * subscribers of one queue group share the messages instead.
 *
 * Core NATS delivers at most once: messages published while this subscriber is
 * disconnected are not replayed. The client reconnects by itself (for ever, by default
 * here) and re-subscribes; stats().reconnects counts it.
 *
 * The `nats` client is an optional peer dependency, loaded on first use (load-nats.ts), so
 * that importing skiptrail does not load it; without it this rejects with a
 * MissingDependencyError that says what to install.
 */

import type { ConnectionOptions, NatsConnection, Subscription } from 'nats';
import type { IngestOptions, IngestReport, IngestTarget } from './ingest-target.js';
import { pickIngestOptions } from './ingest-target.js';
import { MessageFeeder } from './message-feeder.js';
import { typeError } from '../errors.js';
import { checkConnectionOptions, openSourceConnection, type ConnectionStats } from './nats-connection.js';
import { checkNonEmptyString, checkSourceOptions } from '../validate.js';

const NATS_OPTION_NAMES = ['subject', 'queue', 'servers', 'connection', 'connect'];

export interface NatsSourceOptions extends IngestOptions {
  /** The subject to subscribe to (wildcards allowed: 'logs.>'). */
  subject: string;
  /** A queue group: subscribers of the same group share the messages. */
  queue?: string;
  /** Server URL(s), such as 'nats://127.0.0.1:4222'. Ignored when `connection` is given. */
  servers?: string | string[];
  /** An open connection to share between several sources; close() then leaves it open. */
  connection?: NatsConnection;
  /** More options for the client's connect() (name, user, pass, token, tls, …). */
  connect?: ConnectionOptions;
}

export interface NatsSourceStats extends ConnectionStats {
  messages: number;
  bytes: number;
}

export interface NatsSource {
  readonly subject: string;
  readonly connection: NatsConnection;
  /** The cumulative report of every line received so far. */
  readonly report: IngestReport;
  stats(): NatsSourceStats;
  /** Unsubscribes (draining what the server already sent), ingests it and resolves with the final report. */
  close(): Promise<IngestReport>;
}

/** Connects (unless given a connection) and subscribes; resolves once subscribed. */
export async function subscribeNats(index: IngestTarget, options: NatsSourceOptions): Promise<NatsSource> {
  if (options === undefined) throw typeError('options', 'an object with a subject', options);
  const given = checkSourceOptions(options, 'subscribeNats()', NATS_OPTION_NAMES);
  const subject = checkNonEmptyString(given.subject, 'options.subject');
  const queue = given.queue === undefined ? undefined : checkNonEmptyString(given.queue, 'options.queue');
  checkConnectionOptions(given);
  // Checks the ingest options before connecting.
  const feeder = new MessageFeeder(index, pickIngestOptions(options));
  const { connection, owned: ownsConnection, counts } = await openSourceConnection(options, 'subscribeNats()');

  const subscription: Subscription = connection.subscribe(subject, {
    ...(queue === undefined ? {} : { queue }),
    callback: (error, message) => {
      if (error === null) feeder.push(message.data);
    },
  });
  // The subscription is registered with the server when this round trip completes.
  await connection.flush();

  let closing: Promise<IngestReport> | null = null;
  return {
    subject,
    connection,
    get report() {
      return feeder.report;
    },
    stats: () => ({ messages: feeder.counts.messages, bytes: feeder.counts.bytes, ...counts }),
    close() {
      closing ??= (async () => {
        if (!connection.isClosed()) {
          if (ownsConnection) {
            await connection.drain().catch(() => undefined);
          } else {
            await subscription.drain().catch(() => undefined);
          }
        }
        return feeder.end();
      })();
      return closing;
    },
  };
}
