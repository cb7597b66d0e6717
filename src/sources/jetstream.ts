/**
 * subscribeJetStream(index, options): feeds an index from a NATS JetStream stream whose
 * messages each hold one or more whole log lines, through an ordered consumer (the
 * client's own: ephemeral, in stream order, recreated by itself after a gap or a
 * reconnect).
 *
 * Unlike core NATS (nats.ts), a stream keeps its messages, so this source can start
 * where it is told (docs/persistence.md):
 * - `resume` (a position from a snapshot): after the stream sequence it names, so the
 *   index gets exactly the messages the snapshot lacks. If the stream no longer holds
 *   the next one (its limits removed it), stats().resumeGap says how many are missing.
 * - otherwise: the messages of the last `replayWindow` (default: the index's
 *   userWindow), delivered by start time, so a fresh replica fills its window.
 *
 * position() names the stream, the filter subject and the sequence of the last message
 * the index holds, with the report up to there. `subject` filters the stream (a
 * partitioned cluster gives each shard its own).
 *
 * The `nats` client is an optional peer dependency, loaded on first use (load-nats.ts).
 */

import type { ConnectionOptions, JsMsg, NatsConnection } from 'nats';
import type { NatsModule } from '../load-nats.js';
import { typeError } from '../errors.js';
import { checkConnectionOptions, openSourceConnection, type ConnectionStats } from './nats-connection.js';
import {
  checkDurationOption,
  checkJetStreamPosition,
  checkNonEmptyString,
  checkSourceOptions,
  type JetStreamPosition,
} from '../validate.js';
import type { IngestOptions, IngestReport, IngestTarget } from './ingest-target.js';
import { copyReport, pickIngestOptions, sumReports } from './ingest-target.js';
import { MessageFeeder } from './message-feeder.js';

export type { JetStreamPosition } from '../validate.js';

const JETSTREAM_OPTION_NAMES = ['stream', 'subject', 'servers', 'connection', 'connect', 'resume', 'replayWindow'];
const DEFAULT_REPLAY_WINDOW = 30 * 60_000;

export interface JetStreamSourceOptions extends IngestOptions {
  /** The stream to read. */
  stream: string;
  /** Only the stream's messages on this subject (wildcards allowed); default: all of them. */
  subject?: string;
  /** Server URL(s). Ignored when `connection` is given. */
  servers?: string | string[];
  /** An open connection to share; close() then leaves it open. */
  connection?: NatsConnection;
  /** More options for the client's connect(). */
  connect?: ConnectionOptions;
  /** A position from a snapshot (source.position()): continue after its sequence. */
  resume?: JetStreamPosition;
  /** Without `resume`: replay the messages of this last stretch of time. Default: the index's userWindow (else 30m). */
  replayWindow?: string | number;
}

export interface JetStreamSourceStats extends ConnectionStats {
  messages: number;
  bytes: number;
  /** The stream sequence of the last message the index holds (0 before any). */
  sequence: number;
  /** Set when a resume found the stream without the messages right after its position. */
  resumeGap: ResumeGap | null;
  /** Whether the index holds every message the stream had for this source when it started. */
  caughtUp: boolean;
}

export interface JetStreamSource {
  /** 'jetstream:' + stream (+ ':' + subject when filtered): the name its position is stored under. */
  readonly name: string;
  readonly stream: string;
  readonly subject: string | null;
  readonly connection: NatsConnection;
  /** Every line received so far (and, resumed, before). */
  readonly report: IngestReport;
  stats(): JetStreamSourceStats;
  position(): JetStreamPosition;
  /** Stops consuming, ingests what was received, and resolves with the final report. */
  close(): Promise<IngestReport>;
}

/** Connects (unless given a connection) and starts consuming; resolves once the consumer exists. */
export async function subscribeJetStream(index: IngestTarget, options: JetStreamSourceOptions): Promise<JetStreamSource> {
  if (options === undefined) throw typeError('options', 'an object with a stream', options);
  const given = checkSourceOptions(options, 'subscribeJetStream()', JETSTREAM_OPTION_NAMES);
  const stream = checkNonEmptyString(given.stream, 'options.stream');
  const subject = given.subject === undefined ? null : checkNonEmptyString(given.subject, 'options.subject');
  const resume = given.resume === undefined ? null : checkJetStreamPosition(given.resume, 'options.resume');
  const targetWindow = (index as { options?: { userWindow?: unknown } }).options?.userWindow;
  const replayWindow =
    given.replayWindow !== undefined
      ? checkDurationOption(given.replayWindow, 'options.replayWindow')
      : typeof targetWindow === 'number'
        ? targetWindow
        : DEFAULT_REPLAY_WINDOW;
  checkConnectionOptions(given);
  const feeder = new MessageFeeder(index, pickIngestOptions(options));
  const { nats, connection, owned: ownsConnection, counts } = await openSourceConnection(options, 'subscribeJetStream()');

  let consumer: OrderedConsumer;
  try {
    consumer = await consumeOrdered(nats, connection, stream, subject, resume === null ? { since: Date.now() - replayWindow } : { after: resume.sequence }, (message) =>
      feeder.push(message.data, message.seq),
    );
  } catch (error) {
    if (ownsConnection) await connection.close().catch(() => undefined);
    throw error;
  }

  const base = resume === null ? null : copyReport(resume.report);
  const report = () => (base === null ? feeder.report : sumReports([base, feeder.report]));
  const sequence = () => (feeder.settledTag() as number | undefined) ?? resume?.sequence ?? 0;
  let closing: Promise<IngestReport> | null = null;
  return {
    name: `jetstream:${stream}${subject === null ? '' : `:${subject}`}`,
    stream,
    subject,
    connection,
    get report() {
      return report();
    },
    stats: () => {
      const target = consumer.catchUpSequence;
      const caughtUp = target !== null && (target === 0 || sequence() >= target);
      return { messages: feeder.counts.messages, bytes: feeder.counts.bytes, sequence: sequence(), ...counts, resumeGap: consumer.resumeGap, caughtUp };
    },
    position: () => ({ kind: 'jetstream', stream, subject, sequence: sequence(), report: copyReport(report()) }),
    close() {
      closing ??= (async () => {
        await consumer.stop();
        if (ownsConnection && !connection.isClosed()) await connection.drain().catch(() => undefined);
        await feeder.end();
        return copyReport(report());
      })();
      return closing;
    },
  };
}

/** A resume that found the stream without some messages after the stored sequence (its limits removed them). */
export interface ResumeGap {
  /** The first sequence the resume needed. */
  expected: number;
  /** The stream's first sequence now. */
  first: number;
  /** Stream messages (of any subject) removed in between. */
  missing: number;
}

/** Where an ordered consumer starts: after a stored stream sequence, or at a time (ms). */
export type ConsumerStart = { after: number } | { since: number };

export interface OrderedConsumer {
  /** Set when `after` named a sequence the stream no longer holds the messages after. */
  readonly resumeGap: ResumeGap | null;
  /**
   * The stream sequence whose handling means the consumer has read everything the
   * stream held for it at start (0: nothing to read), or null while not yet known. The
   * caller is caught up once it has handled this sequence.
   */
  readonly catchUpSequence: number | null;
  /** Stops delivery; resolves once the last message handed over has been handled. */
  stop(): Promise<void>;
}

/**
 * Reads `stream` (only `subject`'s messages, when given) with an ordered consumer from
 * `start`, handing each message to `onMessage` in stream order. Rejects when the stream
 * does not exist or does not hold `subject`.
 */
export async function consumeOrdered(
  nats: NatsModule,
  connection: NatsConnection,
  stream: string,
  subject: string | null,
  start: ConsumerStart,
  onMessage: (message: JsMsg) => void,
): Promise<OrderedConsumer> {
  let resumeGap: ResumeGap | null = null;
  if ('after' in start) {
    const { state } = await (await connection.jetstreamManager()).streams.info(stream);
    if (state.messages > 0 && state.first_seq > start.after + 1) {
      resumeGap = { expected: start.after + 1, first: state.first_seq, missing: state.first_seq - start.after - 1 };
    }
  }
  const consumer = await connection.jetstream().consumers.get(stream, {
    ...(subject === null ? {} : { filterSubjects: subject }),
    ...('after' in start
      ? { deliver_policy: nats.DeliverPolicy.StartSequence, opt_start_seq: start.after + 1 }
      : { deliver_policy: nats.DeliverPolicy.StartTime, opt_start_time: new Date(start.since).toISOString() }),
  });
  // Caught up: a message delivered with nothing pending after it (JsMsg info.pending, the
  // consumer's num_pending at delivery), or the consumer's first info showing nothing
  // delivered and nothing pending (nothing to read). Not info's delivered.stream_seq: a
  // filtered consumer moves it past messages of other subjects it never delivers.
  let catchUpSequence: number | null = null;
  const messages = await consumer.consume();
  const consuming = (async () => {
    for await (const message of messages) {
      if (catchUpSequence === null && message.info.pending === 0) catchUpSequence = message.seq;
      onMessage(message);
    }
  })();
  const first = await consumer.info();
  if (catchUpSequence === null && first.num_pending === 0 && first.delivered.consumer_seq === 0) catchUpSequence = 0;
  return {
    get resumeGap() {
      return resumeGap;
    },
    get catchUpSequence() {
      return catchUpSequence;
    },
    async stop() {
      messages.stop();
      await consuming.catch(() => undefined);
    },
  };
}

/** Whether `subject` is among those a stream captures (`pattern`: NATS wildcards * and >). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split('.');
  const have = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length || (want[i] !== '*' && want[i] !== have[i])) return false;
  }
  return want.length === have.length;
}
