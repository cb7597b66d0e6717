// The publisher's native splitter (native/partition-splitter.h): every accepted line
// becomes one NDJSON view in its user's partition, whatever the keys hold, and the
// report is the one ingest() gives for the same bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addon } from '../src/binding.js';
import { ActivityIndex, partitionOf } from '../src/index.js';
import { resolveIngestOptions } from '../src/ingest.js';

const keyArb = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
  fc.constantFrom('a"b', 'c\\d', '\\"', 'é', '😀', 'x\u007fy', '/p?q=1'),
);

describe('NativePartitionSplitter', () => {
  it('sends each view, as JSON that reads back the same, to its user partition', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ user: keyArb, page: keyArb, ts: fc.integer({ min: 0, max: 1e12 }) }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 64 }),
        (events, partitions, cut) => {
          const text = events.map((event) => JSON.stringify(event)).join('\n');
          const bytes = Buffer.from(text);
          const options = resolveIngestOptions({ format: 'ndjson' }, 1024);
          const splitter = new addon.NativePartitionSplitter(options, partitions);
          const outputs: string[] = new Array(partitions).fill('');
          const take = (parts: (Buffer | undefined)[]) => parts.forEach((part, p) => (outputs[p] += part === undefined ? '' : part.toString()));
          for (let at = 0; at < bytes.length; at += cut) take(splitter.feed(bytes.subarray(at, at + cut)));
          take(splitter.finish());

          const index = new ActivityIndex();
          const report = index.ingest(text, { format: 'ndjson' });
          index.close();
          // The same, but `late`: that is the index's to know.
          expect(splitter.report()).toEqual({ ...report, late: 0 });
          const accepted = events.filter((event) => event.user.isWellFormed() && event.page.isWellFormed() && !/[\u0000-\u001f\u007f]/.test(event.user + event.page));
          expect(report.accepted).toBe(accepted.length);
          for (let p = 0; p < partitions; p++) {
            const views = outputs[p]!.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line));
            expect(views).toEqual(accepted.filter((event) => partitionOf(event.user, partitions) === p));
          }
          const latest = Math.max(-Infinity, ...accepted.map((event) => event.ts));
          expect(splitter.watermark()).toBe(latest);
        },
      ),
      { numRuns: process.env.CI ? 300 : 100 },
    );
  });

  it('refuses bad arguments without crashing', () => {
    const options = resolveIngestOptions({}, 1024);
    expect(() => new addon.NativePartitionSplitter(options, 0)).toThrow(TypeError);
    expect(() => new addon.NativePartitionSplitter(options, 1.5)).toThrow(TypeError);
    expect(() => new addon.NativePartitionSplitter({ ...options, partitions: 2, partition: 0 }, 2)).toThrow(TypeError);
    expect(() => new addon.NativePartitionSplitter(null as never, 2)).toThrow(TypeError);
    const splitter = new addon.NativePartitionSplitter(options, 2);
    expect(() => splitter.feed('text' as never)).toThrow(TypeError);
    expect(() => splitter.feed(new Uint16Array(2) as never)).toThrow(TypeError);
  });
});
