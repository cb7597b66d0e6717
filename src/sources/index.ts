/**
 * Live sources: each feeds an index through its native ingest path (docs/contract.md section 5).
 * follow() tails a log file across rotation and truncation; ingestReadable() and
 * ingestStdin() drain a stream; listenUdp() takes datagrams; subscribeNats() takes a
 * NATS subject.
 */

export { follow, type Follower, type FollowOptions, type FollowPosition, type FollowStats, type ResumeGap } from './follow.js';
export {
  subscribeJetStream,
  type JetStreamPosition,
  type JetStreamSource,
  type JetStreamSourceOptions,
  type JetStreamSourceStats,
} from './jetstream.js';
export type { IngestTarget } from './ingest-target.js';
export { sumReports } from './ingest-target.js';
export { subscribeNats, type NatsSource, type NatsSourceOptions, type NatsSourceStats } from './nats.js';
export { gunzipIfCompressed, ingestFile, ingestReadable, ingestStdin, type ReadableSourceOptions } from './readable.js';
export { listenUdp, type UdpSource, type UdpSourceOptions, type UdpSourceStats } from './udp.js';
