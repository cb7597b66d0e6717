/** skiptrail: recent activity by page and by user, from a native skiplist engine. */

export {
  ActivityIndex,
  loadSnapshot,
  type ActivityStats,
  type LoadedSnapshot,
  type PageView,
  type UserPagesOptions,
  type UserView,
  type ViewEvent,
} from './activity-index.js';
export type { Duration } from './duration.js';
export type {
  IngestOptions,
  IngestReport,
  LogFormat,
  RejectedLine,
  RejectReason,
  UserField,
} from './ingest.js';
export { DEFAULT_CRAWLERS, DEFAULT_METHODS, DEFAULT_STATIC_EXTENSIONS } from './ingest.js';
export { IngestStream } from './ingest-stream.js';
export { MissingDependencyError } from './load-nats.js';
export { SnapshotError, type SnapshotErrorCode } from './errors.js';
export type { PositionedSource, SavedSnapshot, SaveOptions, SourcePosition } from './snapshot.js';
export { parseDuration } from './duration.js';
export { partitionOf, MAX_PARTITIONS, type PartitionSpec } from './partition.js';
export type { ActivityIndexOptions, Clock, ResolvedOptions } from './validate.js';
export {
  follow,
  gunzipIfCompressed,
  ingestFile,
  ingestReadable,
  ingestStdin,
  listenUdp,
  subscribeJetStream,
  subscribeNats,
  sumReports,
  type Follower,
  type FollowOptions,
  type FollowPosition,
  type FollowStats,
  type JetStreamPosition,
  type JetStreamSource,
  type JetStreamSourceOptions,
  type JetStreamSourceStats,
  type ResumeGap,
  type IngestTarget,
  type NatsSource,
  type NatsSourceOptions,
  type NatsSourceStats,
  type ReadableSourceOptions,
  type UdpSource,
  type UdpSourceOptions,
  type UdpSourceStats,
} from './sources/index.js';
export { ClientError, createClient, type ActivityClient, type ClientErrorCode, type ClientOptions } from './client.js';
export {
  createQueryServer,
  type MaybePromise,
  type QueryBackend,
  type QueryServer,
  type QueryServerOptions,
  type SourceStatus,
} from './http/query-server.js';
