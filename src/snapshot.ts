/**
 * Snapshot files on disk (docs/persistence.md): writing an image so that a crash at any
 * moment leaves either the old file or the new one, and reading one back. The image
 * itself is made and read natively (native/snapshot-format.h); the index's save() and
 * ActivityIndex.load() tie the two together.
 *
 * All file work goes through fs.promises, that is libuv's thread pool: the event loop
 * only hands buffers over.
 */

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

import { addon } from './binding.js';
import { SnapshotError, type SnapshotErrorCode } from './errors.js';

/** What a source stores in a snapshot to resume from it later (see each source). */
export interface SourcePosition {
  kind: string;
}

/** A source that can say where it is: the sources of skiptrail (follow, JetStream, …) are. */
export interface PositionedSource {
  readonly name: string;
  /** Where the source is now; null when it cannot resume (it then starts afresh). */
  position(): SourcePosition | null;
}

export interface SaveOptions {
  /** Sources whose positions are stored with the content, read at the same instant. */
  sources?: Iterable<PositionedSource>;
}

/** What a save wrote and how long it took. */
export interface SavedSnapshot {
  path: string;
  bytes: number;
  /** The snapshot's time (ms since the epoch), as stored in its header. */
  createdAt: number;
  /** From the call to the image being complete (ms); it is made in steps between which the event loop runs. */
  serializeMs: number;
  /** The longest single step of making the image: how long the event loop was held at most (ms). */
  longestStepMs: number;
  /** From the call to the file being durable under its name (ms). */
  durationMs: number;
}

/** The header and small sections of a snapshot, read before its content. */
export interface SnapshotHeader {
  version: number;
  createdAt: number;
  /** The options the index was made with (windows in ms; `null` for unbounded). */
  options: Record<string, unknown>;
  /** Source positions by source name. */
  sources: Record<string, SourcePosition>;
  /** The 'stream' clock's lead over the wall clock (ms), or null before any event. */
  lead: number | null;
}

interface NativeHeader {
  version: number;
  createdAt: number;
  options: string;
  facade: string;
}

/**
 * Writes `data` to `file` atomically and durably: a temporary file in the same folder,
 * written and fsynced, renamed over `file`, then the folder fsynced so the rename
 * itself survives a power loss. On failure the temporary file is removed and `file`
 * is as it was.
 */
export async function writeFileAtomic(file: string, data: Uint8Array): Promise<void> {
  const folder = path.dirname(file);
  const temporary = path.join(folder, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const handle = await fsp.open(temporary, 'wx', 0o644);
  try {
    try {
      let written = 0;
      while (written < data.byteLength) {
        const { bytesWritten } = await handle.write(data, written, data.byteLength - written);
        written += bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temporary, file);
  } catch (error) {
    await fsp.unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncFolder(folder);
}

async function syncFolder(folder: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof fsp.open>> | undefined;
  try {
    handle = await fsp.open(folder, 'r');
    await handle.sync();
  } catch (error) {
    // Some file systems refuse fsync on a directory (EINVAL, EISDIR on a few): the
    // rename is then as durable as they make it.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    await handle?.close();
  }
}

/** Reads a snapshot file's bytes; a missing file rejects with the fs error (ENOENT). */
export async function readSnapshotFile(file: string): Promise<Buffer> {
  return fsp.readFile(file);
}

/** Checks a snapshot image's header and small sections; throws SnapshotError. */
export function inspectSnapshot(file: string, data: Uint8Array): SnapshotHeader {
  const result = addon.inspectSnapshot(data) as NativeHeader | { code: SnapshotErrorCode; message: string };
  if ('code' in result) throw new SnapshotError(result.code, file, result.message);
  const parse = (text: string, what: string): Record<string, any> => {
    try {
      const value: unknown = JSON.parse(text);
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, any>;
    } catch {
      // reported below
    }
    throw new SnapshotError('ECHECKSUM', file, `the ${what} section is not a JSON object although its checksum matches`);
  };
  const facade = parse(result.facade, 'facade state');
  const sources: unknown = facade.sources ?? {};
  const lead: unknown = facade.lead ?? null;
  if (sources === null || typeof sources !== 'object' || (lead !== null && typeof lead !== 'number')) {
    throw new SnapshotError('ECHECKSUM', file, 'the facade state section is malformed although its checksum matches');
  }
  return {
    version: result.version,
    createdAt: result.createdAt,
    options: parse(result.options, 'options'),
    sources: sources as Record<string, SourcePosition>,
    lead: lead as number | null,
  };
}

/** Reads each source's position now; names must be unique. */
export function collectPositions(sources: Iterable<PositionedSource> | undefined): Record<string, SourcePosition> {
  const positions: Record<string, SourcePosition> = {};
  if (sources === undefined) return positions;
  for (const source of sources) {
    if (Object.hasOwn(positions, source.name)) throw new RangeError(`options.sources: two sources are named ${source.name}`);
    const position = source.position();
    if (position !== null) positions[source.name] = position;
  }
  return positions;
}

/** JSON for options: Infinity (an absent limit) is stored as null. */
export function optionsToJson(options: object): string {
  return JSON.stringify(options, (_key, value: unknown) => (value === Infinity ? null : value));
}
