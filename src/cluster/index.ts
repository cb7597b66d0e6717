/**
 * skiptrail/cluster: partitioned shards on NATS (docs/scaling.md). A separate entry
 * point, so that `import 'skiptrail'` loads none of it.
 */

export { ClusterError, connectCluster, type ClusterClient, type ClusterErrorCode, type ClusterList, type ClusterOptions, type ClusterStats, type PartitionStats } from './client.js';
export { compareUtf8, mergeTopK } from './merge.js';
export { MAX_PARTITIONS, partitionOf, type PartitionSpec } from '../partition.js';
export { DEFAULT_CLUSTER } from './protocol.js';
export { answerQuery, recordViews, startShard, type FeedTransport, type RunningShard, type ShardStats } from './shard.js';
export { inProcessTransport, natsTransport, PartitionUnavailable, ViewsNotStored, type ClusterTransport, type ShardAnnouncement, type UnavailableReason } from './transport.js';
