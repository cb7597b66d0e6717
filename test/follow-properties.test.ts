// follow() against a model of what a log writer does to its file: lines appended whole
// or in pieces, rotation by rename (with writes to the old file after the rename),
// delete and recreate, truncation. Every line is counted once, and a file that ends
// (rotated, deleted, truncated) with an unterminated last line counts that as a line.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActivityIndex } from '../src/index.js';
import { follow } from '../src/sources/index.js';
import { T0, combinedLine } from './live-helpers.js';

type Op =
  | { kind: 'append'; lines: number; cut: number | undefined }
  | { kind: 'finish' }
  | { kind: 'rotate'; after: number; cut: number | undefined; lines: number }
  | { kind: 'delete'; lines: number }
  | { kind: 'truncate'; lines: number; rewrite: boolean };

const cutArb = fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('append' as const), lines: fc.nat(4), cut: cutArb }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'finish' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rotate' as const), after: fc.nat(2), cut: cutArb, lines: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), lines: fc.nat(3) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('truncate' as const), lines: fc.integer({ min: 1, max: 3 }), rewrite: fc.boolean() }),
  },
);

/** Bytes before its read offset that follow() compares to notice a hidden truncation (TAIL_BYTES in src/sources/follow.ts). */
const TAIL_BYTES = 64;
/** Bytes at the start of the file that follow() compares for the same reason (HEAD_BYTES in src/sources/follow.ts). */
const HEAD_BYTES = 1024;

/** The same line an hour later (every line of the model is at 10:xx): as long, with the same last bytes, and a different start. */
const anHourLater = (line: string) => line.replace(':10:', ':11:');

/** What the follower must have counted: lines of ended files, and whole lines of the open one. */
class FileModel {
  /** Lines counted from files that ended. */
  ended = 0;
  /** The open file's text. */
  text = '';
  /** Users whose line went whole, newline included, into one file at a line start. */
  readonly intact: string[] = [];
  /** The line being written in pieces: its user, what is still to come, and whether it began a line. */
  pending: { user: string; rest: string; atLineStart: boolean } | null = null;
  #next = 0;

  /** The next line, and its user. */
  nextLine(): { user: string; line: string } {
    const n = this.#next++;
    const user = `u${n}`;
    return { user, line: combinedLine(user, `/p${n % 5}`, T0 + n * 1000) };
  }

  atLineStart(): boolean {
    return this.text.length === 0 || this.text.endsWith('\n');
  }

  /** Writes `text` to the open file (anything written breaks a line in progress). */
  write(text: string, write: (text: string) => void): void {
    write(text);
    this.text += text;
    if (text.length > 0) this.pending = null;
  }

  /** `count` whole lines, then maybe the first `cut` bytes of one more. */
  writeLines(count: number, cut: number | undefined, write: (text: string) => void): void {
    for (let i = 0; i < count; i++) {
      const { user, line } = this.nextLine();
      if (this.atLineStart()) this.intact.push(user);
      this.write(line, write);
    }
    if (cut !== undefined) {
      const { user, line } = this.nextLine();
      const piece = line.slice(0, Math.min(cut, line.length - 2));
      const atLineStart = this.atLineStart();
      this.write(piece, write);
      this.pending = { user, rest: line.slice(piece.length), atLineStart };
    }
  }

  /** Writes the rest of the line in progress, if any. */
  finishLine(write: (text: string) => void): void {
    if (this.pending === null) return;
    const { user, rest, atLineStart } = this.pending;
    this.write(rest, write);
    if (atLineStart) this.intact.push(user);
  }

  /** The open file ends: its lines count, an unterminated last one included. */
  endFile(): void {
    const newlines = this.text.split('\n').length - 1;
    this.ended += newlines + (this.atLineStart() ? 0 : 1);
    this.text = '';
    this.pending = null;
  }

  /**
   * The file is truncated and `count` whole lines are written before the follower looks;
   * with `rewrite`, they follow the old text again with its first line an hour later (the
   * file reaches the old offset with the same last bytes: only its start tells).
   * As follow.ts documents, the follower notices only when the file is shorter than what
   * it read, or its first bytes (up to HEAD_BYTES) or the last bytes it read (up to
   * TAIL_BYTES) are no longer where they were. Otherwise it reads on from its offset, as
   * after an append: the model's text becomes what it read, then the new bytes past it.
   * (Seed 2127675380 found one: a one-byte partial line "u" that a new line "u1 - - …"
   * begins with, byte for byte what an append would have made.)
   */
  truncateAndWrite(count: number, rewrite: boolean, write: (text: string) => void): void {
    const read = this.text;
    const endedBefore = this.ended;
    this.endFile();
    const firstLine = read.indexOf('\n') + 1;
    if (rewrite && firstLine > 0) this.write(anHourLater(read.slice(0, firstLine)) + read.slice(firstLine), write);
    this.writeLines(count, undefined, write);
    const head = Math.min(HEAD_BYTES, read.length);
    const tail = Math.max(0, read.length - TAIL_BYTES);
    const noticed =
      this.text.length < read.length ||
      this.text.slice(0, head) !== read.slice(0, head) ||
      this.text.slice(tail, read.length) !== read.slice(tail);
    if (!noticed) {
      this.ended = endedBefore;
      this.text = read + this.text.slice(read.length);
    }
  }

  counted(): number {
    return this.ended + this.text.split('\n').length - 1;
  }
}

describe('follow() against a model of the writer', () => {
  it('counts every line once across appends in pieces, rotations, deletions and truncations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-follow-'));
        const file = path.join(dir, 'access.log');
        fs.writeFileSync(file, '');
        const index = new ActivityIndex({ userWindow: '1d' });
        const follower = follow(index, file, { pollInterval: 60_000, from: 'start' });
        const model = new FileModel();
        let rotated = 0;
        const append = (text: string) => fs.appendFileSync(file, text);
        try {
          await follower.poll();
          for (const op of ops) {
            if (op.kind === 'append') {
              model.writeLines(op.lines, op.cut, append);
            } else if (op.kind === 'finish') {
              model.finishLine(append);
            } else if (op.kind === 'rotate') {
              const writer = fs.openSync(file, 'a'); // the writer's descriptor, open across the rename
              fs.renameSync(file, `${file}.${++rotated}`);
              model.writeLines(op.after, op.cut, (text) => fs.writeSync(writer, text));
              fs.closeSync(writer);
              model.endFile();
              fs.writeFileSync(file, '');
              model.writeLines(op.lines, undefined, append);
            } else if (op.kind === 'delete') {
              fs.unlinkSync(file);
              await follower.poll();
              model.endFile();
              fs.writeFileSync(file, '');
              model.writeLines(op.lines, undefined, append);
            } else {
              fs.truncateSync(file, 0);
              model.truncateAndWrite(op.lines, op.rewrite, append);
            }
            await follower.poll();
            expect(follower.report.lines, JSON.stringify(op)).toBe(model.counted());
          }
          const report = follower.report;
          expect(report.lines).toBe(report.accepted + report.rejected);
          for (const user of model.intact) expect(index.userPages(user), user).toHaveLength(1);
          expect(report.accepted).toBeGreaterThanOrEqual(model.intact.length);
        } finally {
          await follower.close();
          index.close();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: process.env.CI ? 40 : 15 },
    );
  });
});
