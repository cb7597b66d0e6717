/**
 * Progress of a replay on stderr: a bar redrawn in place when stderr is a terminal,
 * otherwise a plain line every few seconds (for logs and CI), or nothing when quiet.
 */

export interface ProgressSnapshot {
  /** Bytes read from the input files so far (compressed bytes for gzip). */
  bytesRead: number;
  /** Total size of the input files, or 0 when unknown (standard input). */
  bytesTotal: number;
  lines: number;
  file: string;
}

export type ProgressMode = 'bar' | 'lines' | 'off';

export class Progress {
  readonly #mode: ProgressMode;
  readonly #read: () => ProgressSnapshot;
  readonly #started = performance.now();
  #timer: NodeJS.Timeout | null = null;
  #drawn = false;

  constructor(mode: ProgressMode, read: () => ProgressSnapshot, intervalMs = mode === 'bar' ? 100 : 5000) {
    this.#mode = mode;
    this.#read = read;
    if (mode !== 'off') {
      this.#timer = setInterval(() => this.#draw(), intervalMs);
      this.#timer.unref();
    }
  }

  /** Stops, and erases the bar so that the summary starts on a clean line. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#mode === 'bar' && this.#drawn) process.stderr.write('\r\x1b[2K');
  }

  #draw(): void {
    const snapshot = this.#read();
    const seconds = (performance.now() - this.#started) / 1000;
    const rate = seconds > 0 ? snapshot.lines / seconds : 0;
    const amount =
      snapshot.bytesTotal > 0
        ? `${formatBytes(snapshot.bytesRead)}/${formatBytes(snapshot.bytesTotal)}`
        : formatBytes(snapshot.bytesRead);
    const text = `${formatCount(snapshot.lines)} lines  ${formatCount(rate)} lines/s  ${amount}  ${snapshot.file}`;
    if (this.#mode === 'lines') {
      process.stderr.write(`skiptrail: ${text}\n`);
      return;
    }
    const width = 24;
    const fraction = snapshot.bytesTotal > 0 ? Math.min(1, snapshot.bytesRead / snapshot.bytesTotal) : 0;
    const filled = Math.round(fraction * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
    const columns = process.stderr.columns ?? 80;
    process.stderr.write(`\r\x1b[2K${`${bar}  ${text}`.slice(0, columns - 1)}`);
    this.#drawn = true;
  }
}

export function formatCount(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return String(Math.round(value));
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} B`;
}
