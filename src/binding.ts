/**
 * Loads the native addon once per thread (Node-API addons are context-aware, so each
 * worker gets its own instance). node-gyp-build picks it: a local build in build/Release
 * (or build/Debug) when there is one, else the prebuild in prebuilds/ that fits this
 * platform. SKIPTRAIL_ADDON may name another build instead, such as the sanitizer build
 * used by `npm run test:asan`. When none loads, the error says which platform was looked
 * for and how to build the addon from source (docs/install.md).
 */

import { createRequire } from 'node:module';
import * as path from 'node:path';

import type { EngineTuning } from './engine-tuning.js';
import type { IngestReport, NativeIngestOptions } from './ingest.js';

/** The addon's class; see native/activity-index-wrap.h for the contract of each method. */
export interface NativeActivityIndex {
  bindResults(ids: Uint32Array, times: Float64Array, keyLengths: Uint32Array): void;
  record(user: string, page: string, ts: number): boolean;
  recordMany(keys: string, lengths: Uint32Array, times: Float64Array, count: number, ids: Uint32Array): number;
  takeFreedIds(): Uint32Array | null;
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
  /** maxTs: a line with a later time is rejected as 'future' (default: no limit). */
  ingest(data: Uint8Array, options: NativeIngestOptions, maxTs?: number): IngestReport;
  /** native/snapshot-wrap.h */
  beginSnapshot(createdAt: number, optionsJson: string, facadeJson: string): void;
  stepSnapshot(budgetMs: number): boolean;
  finishSnapshot(): Buffer;
  abortSnapshot(): void;
  restoreSnapshot(data: Uint8Array, callback: (error: { code: string; message: string } | null) => void): void;
}

/** One log stream split by partition into NDJSON views (native/partition-splitter-wrap.h). */
export interface NativePartitionSplitter {
  feed(chunk: Uint8Array): (Buffer | undefined)[];
  /** Lines before the input that set the parser's state (a W3C file's #Fields:), before the first feed(). */
  readContext(lines: Uint8Array): void;
  finish(): (Buffer | undefined)[];
  report(): IngestReport;
  watermark(): number;
}

/** One log stream feeding one index (native/ingest-wrap.h). */
export interface NativeIngestSession {
  /** maxTs: a line with a later time is rejected as 'future' (default: no limit). */
  feed(chunk: Uint8Array, maxTs?: number): void;
  /** Lines before the input that set the parser's state (a W3C file's #Fields:), not counted; throws when a line is pending. */
  readContext(lines: Uint8Array): void;
  finish(maxTs?: number): void;
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
  NativePartitionSplitter: new (options: NativeIngestOptions, partitions: number) => NativePartitionSplitter;
  /** native/snapshot-wrap.h */
  inspectSnapshot(data: Uint8Array): { version: number; createdAt: number; options: string; facade: string } | { code: string; message: string };
  /** null when the Apache/nginx format compiles with this user list (w3c: the user list is valid), else the compiler's message. */
  checkLogFormat(dialect: 'apache' | 'nginx' | 'vhost_combined' | 'w3c', format: string, userList: string): string | null;
  /** null when a JSON field spec ('request.uri', 'a|b') parses, else why not. */
  checkJsonField(spec: string): string | null;
  /** Whether a format that checkLogFormat accepts logs a method and a user agent. */
  logFormatTraits(dialect: 'apache' | 'nginx' | 'vhost_combined', format: string, userList: string): { method: boolean; agent: boolean };
  /** The default lists of the view rules (native/parse/view-rules.cc). */
  defaultViewRules(): { staticExtensions: string[]; crawlers: string[] };
  napiVersion: number;
}

declare const __dirname: string | undefined;

/** The package's top folder: src/ and dist/ both sit one level below it. */
function packageRoot(): string {
  return typeof __dirname === 'string' ? path.resolve(__dirname, '..') : process.cwd();
}

/** The platform a prebuild must fit, as node-gyp-build matches it: 'linux-x64 (glibc)'. */
function platformName(): string {
  const platform = process.env.npm_config_platform ?? process.platform;
  const arch = process.env.npm_config_arch ?? process.arch;
  if (platform !== 'linux') return `${platform}-${arch}`;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  const libc = header?.glibcVersionRuntime === undefined ? 'not glibc: musl?' : `glibc ${header.glibcVersionRuntime}`;
  return `${platform}-${arch} (${libc})`;
}

function addonError(root: string, problem: string, cause: unknown): Error {
  return new Error(
    `skiptrail: ${problem}\n` +
      `Looked for a build of the addon in ${path.join(root, 'build')} and a prebuild for ${platformName()}, ` +
      `Node ${process.version} (Node-API ${process.versions.napi ?? '?'}), in ${path.join(root, 'prebuilds')}.\n` +
      'Build it from source (needs python3, make and a C++17 compiler; see docs/install.md):\n' +
      '  in a project that depends on skiptrail:  npm rebuild skiptrail --build-from-source\n' +
      '  in a clone of the skiptrail repository:  npm run build:native',
    { cause },
  );
}

function loadAddon(): Addon {
  const root = packageRoot();
  const require = createRequire(path.join(root, 'package.json'));
  if (process.env.SKIPTRAIL_ADDON !== undefined) return require(path.resolve(root, process.env.SKIPTRAIL_ADDON)) as Addon;
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  let file: string;
  try {
    file = nodeGypBuild.resolve(root);
  } catch (error) {
    throw addonError(root, 'no native addon fits this platform.', error);
  }
  try {
    return require(file) as Addon;
  } catch (error) {
    throw addonError(root, `the native addon ${file} does not load: ${(error as Error).message}`, error);
  }
}

export const addon: Addon = loadAddon();
