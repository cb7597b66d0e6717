/**
 * Loads the native addon once per thread (Node-API addons are context-aware, so each
 * worker gets its own instance). SKIPTRAIL_ADDON may name another build of it, such as
 * the sanitizer build used by `npm run test:asan`.
 */

import { createRequire } from 'node:module';
import * as path from 'node:path';

import type { EngineTuning } from './engine-tuning.js';
import type { IngestReport, NativeIngestOptions } from './ingest.js';

/** The addon's class; see native/activity-index-wrap.h for the contract of each method. */
export interface NativeActivityIndex {
  bindResults(ids: Uint32Array, times: Float64Array, keyLengths: Uint32Array): void;
  record(user: string, page: string, ts: number): boolean;
  recordMany(keys: string, lengths: Uint32Array, times: Float64Array, count: number): number;
  lastUsers(page: string, k: number): NativeResult;
  userPages(user: string, from: number, to: number, limit: number): NativeResult;
  onlineUsers(page: string, k: number, now: number): NativeResult;
  onlineCount(page: string | undefined, now: number): number;
  watermark(): number;
  stats(): NativeStats;
  advanceWatermark(ts: number): void;
  clear(): void;
  close(): void;
  validate(): void;
  ingest(data: Uint8Array, options: NativeIngestOptions): IngestReport;
}

/** One log stream feeding one index (native/ingest-wrap.h). */
export interface NativeIngestSession {
  feed(chunk: Uint8Array): void;
  finish(): void;
  report(): IngestReport;
}

/**
 * A result count, or the keys new to JavaScript joined in row order (an array of such
 * strings when long), with the count and each row's key length in the bound keyLengths.
 */
export type NativeResult = number | string | string[];

export interface NativeStats {
  events: number;
  pages: number;
  users: number;
  entries: number;
  late: number;
  evicted: number;
  online: number;
  watermark: number;
  memoryBytes: number;
}

interface Addon {
  NativeActivityIndex: new (
    usersPerPage: number,
    pagesPerUser: number,
    userWindow: number,
    pageWindow: number,
    presenceWindow: number,
    maxPages: number,
    maxUsers: number,
    maxKeyBytes: number,
    tuning?: EngineTuning,
  ) => NativeActivityIndex;
  NativeIngestSession: new (index: NativeActivityIndex, options: NativeIngestOptions) => NativeIngestSession;
  napiVersion: number;
}

declare const __dirname: string | undefined;

/** The package's top folder: src/ and dist/ both sit one level below it. */
function packageRoot(): string {
  return typeof __dirname === 'string' ? path.resolve(__dirname, '..') : process.cwd();
}

function loadAddon(): Addon {
  const root = packageRoot();
  const file = process.env.SKIPTRAIL_ADDON ?? path.join(root, 'build', 'Release', 'skiptrail.node');
  return createRequire(path.join(root, 'package.json'))(path.resolve(root, file)) as Addon;
}

export const addon: Addon = loadAddon();
