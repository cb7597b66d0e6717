/**
 * `skiptrail serve --snapshot FILE`: the index comes from FILE at start when it exists,
 * is saved to it every interval and once more when the process closes, with the
 * positions of its sources (docs/persistence.md). /stats and /metrics show the last
 * save.
 */

import * as fs from 'node:fs';
import { ActivityIndex, loadSnapshot } from '../activity-index.js';
import { SnapshotError } from '../errors.js';
import type { MetricsWriter } from '../http/metrics.js';
import type { PositionedSource, SourcePosition } from '../snapshot.js';
import type { ActivityIndexOptions } from '../validate.js';
import { StartupError } from './flags.js';

export interface SnapshotSettings {
  path: string;
  /** Between two periodic saves, ms. */
  intervalMs: number;
  /** What a bad file at start does: 'exit' (code 2) or 'ignore' (start empty). */
  onError: 'exit' | 'ignore';
}

/** The index to serve: from the snapshot when there is one, with its source positions. */
export async function openFromSnapshot(
  settings: SnapshotSettings,
  options: ActivityIndexOptions,
  log: (message: string) => void,
): Promise<{ index: ActivityIndex; positions: Record<string, SourcePosition> } | null> {
  if (!fs.existsSync(settings.path)) {
    log(`snapshot ${settings.path}: none yet; starting empty`);
    return null;
  }
  try {
    const loaded = await loadSnapshot(settings.path, options);
    const stats = loaded.index.stats();
    log(
      `snapshot ${settings.path}: loaded in ${Math.round(loaded.durationMs)} ms (${loaded.bytes} bytes, saved ${new Date(loaded.createdAt).toISOString()}): ` +
        `${stats.events} events, ${stats.users} users, ${stats.pages} pages`,
    );
    return { index: loaded.index, positions: loaded.sources };
  } catch (error) {
    if (!(error instanceof SnapshotError)) throw error;
    if (settings.onError === 'ignore') {
      log(`snapshot ${error.message} (${error.code}); starting empty (--snapshot-on-error ignore)`);
      return null;
    }
    throw new StartupError(`--snapshot ${error.message} (${error.code}); move the file away, or start with --snapshot-on-error ignore`);
  }
}

export interface SnapshotStatus {
  path: string;
  intervalSeconds: number;
  saves: number;
  failures: number;
  /** The last successful save: when (ISO), bytes, how long, and its age now. */
  lastSavedAt: string | null;
  lastBytes: number | null;
  lastDurationMs: number | null;
  /** The longest event-loop step of the last save's image, ms. */
  lastLongestStepMs: number | null;
  ageSeconds: number | null;
  lastError: string | null;
}

/** Saves an index to one file periodically and on demand, one save at a time. */
export class SnapshotKeeper {
  readonly #index: ActivityIndex;
  readonly #settings: SnapshotSettings;
  readonly #sources: () => Iterable<PositionedSource>;
  readonly #log: (message: string) => void;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> = Promise.resolve();
  #saves = 0;
  #failures = 0;
  #last: { at: number; bytes: number; durationMs: number; longestStepMs: number } | null = null;
  #lastError: string | null = null;

  constructor(index: ActivityIndex, settings: SnapshotSettings, sources: () => Iterable<PositionedSource>, log: (message: string) => void) {
    this.#index = index;
    this.#settings = settings;
    this.#sources = sources;
    this.#log = log;
  }

  /** Starts the periodic saves. */
  start(): void {
    this.#timer = setInterval(() => void this.save(), this.#settings.intervalMs);
    this.#timer.unref();
  }

  /** Saves now (after any save in progress); never rejects: a failure is logged and counted. */
  save(): Promise<void> {
    this.#running = this.#running.then(async () => {
      try {
        const saved = await this.#index.save(this.#settings.path, { sources: this.#sources() });
        this.#saves++;
        this.#last = { at: saved.createdAt, bytes: saved.bytes, durationMs: saved.durationMs, longestStepMs: saved.longestStepMs };
        this.#lastError = null;
      } catch (error) {
        this.#failures++;
        this.#lastError = (error as Error).message;
        this.#log(`snapshot ${this.#settings.path}: save failed: ${this.#lastError}`);
      }
    });
    return this.#running;
  }

  /** Stops the periodic saves and saves once more; resolves when it is on disk (or failed). */
  async stop(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.save();
    if (this.#lastError === null && this.#last !== null) {
      this.#log(`snapshot ${this.#settings.path}: saved (${this.#last.bytes} bytes in ${Math.round(this.#last.durationMs)} ms)`);
    }
  }

  status(): SnapshotStatus {
    const last = this.#last;
    return {
      path: this.#settings.path,
      intervalSeconds: this.#settings.intervalMs / 1000,
      saves: this.#saves,
      failures: this.#failures,
      lastSavedAt: last === null ? null : new Date(last.at).toISOString(),
      lastBytes: last?.bytes ?? null,
      lastDurationMs: last === null ? null : Math.round(last.durationMs * 10) / 10,
      lastLongestStepMs: last === null ? null : Math.round(last.longestStepMs * 10) / 10,
      ageSeconds: last === null ? null : (Date.now() - last.at) / 1000,
      lastError: this.#lastError,
    };
  }

  /** The Prometheus families for /metrics. */
  render(out: MetricsWriter): void {
    const last = this.#last;
    out.single('skiptrail_snapshot_saves_total', 'counter', 'Snapshots saved.', this.#saves);
    out.single('skiptrail_snapshot_failures_total', 'counter', 'Snapshot saves that failed.', this.#failures);
    if (last === null) return;
    out.single('skiptrail_snapshot_last_success_timestamp_seconds', 'gauge', 'When the last snapshot was made, in seconds since the epoch.', last.at / 1000);
    out.single('skiptrail_snapshot_age_seconds', 'gauge', 'Seconds since the last snapshot was made.', (Date.now() - last.at) / 1000);
    out.single('skiptrail_snapshot_bytes', 'gauge', 'Size of the last snapshot file.', last.bytes);
    out.single('skiptrail_snapshot_duration_seconds', 'gauge', 'Time the last save took, image and durable write.', last.durationMs / 1000);
    out.single('skiptrail_snapshot_longest_step_seconds', 'gauge', 'The longest event-loop step while making the last image.', last.longestStepMs / 1000);
  }
}
