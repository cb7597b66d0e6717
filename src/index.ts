/** skiptrail: recent activity by page and by user, from a native skiplist engine. */

export {
  ActivityIndex,
  type ActivityStats,
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
export { IngestStream } from './ingest-stream.js';
export { parseDuration } from './duration.js';
export type { ActivityIndexOptions, Clock, ResolvedOptions } from './validate.js';
