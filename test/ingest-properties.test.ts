// Property tests for ingest(): any bytes are safe, the report always adds up, parsing
// agrees with the documented rules (test/ingest-reference.ts), ingest() indexes exactly
// what record() of the same events would, and a stream cut anywhere equals one call.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActivityIndex, type IngestOptions, type IngestReport } from '../src/index.js';
import { indexConfigArb, ingestOptionsArb, inputFor, T0 } from './ingest-arbitraries.js';
import { keysOf, referenceIngest, snapshot, type RefEvent, type RefOptions } from './ingest-reference.js';
import { frozenClock } from './helpers.js';

const numRuns = process.env.CI ? 1000 : 200;

type Config = { usersPerPage: number; pagesPerUser: number; userWindow: number };

function expectConsistent(report: IngestReport): void {
  expect(report.lines).toBe(report.accepted + report.rejected);
  expect(Object.values(report.reasons).reduce((a, b) => a + b, 0)).toBe(report.rejected);
  for (const count of Object.values(report.reasons)) expect(count).toBeGreaterThan(0);
  expect(report.samples.length).toBeLessThanOrEqual(10);
  expect(report.samples.length).toBeLessThanOrEqual(report.rejected - (report.reasons.filtered ?? 0));
  expect(report.late).toBeLessThanOrEqual(report.accepted);
  let previous = 0;
  for (const sample of report.samples) {
    expect(sample.reason).not.toBe('filtered');
    expect(sample.line).toBeGreaterThan(previous);
    previous = sample.line;
    expect(Buffer.byteLength(sample.text)).toBeLessThanOrEqual(200 * 3); // U+FFFD (3 bytes) may stand for 1 byte
  }
}

/** Keys worth asking about: those of the events, and some that were never indexed. */
function probeKeys(events: readonly RefEvent[]) {
  const { pages, users } = keysOf(events);
  return { pages: [...pages, '/a', '/never'], users: [...users, 'alice', 'nobody'] };
}

/** An index built with record() from the reference's events, one call per event in input order. */
function recordedIndex(config: Config, events: readonly RefEvent[]): ActivityIndex {
  const index = new ActivityIndex({ ...config, now: frozenClock, maxFutureSkew: Infinity });
  for (const { user, page, ts } of events) index.record(user, page, ts);
  return index;
}

/**
 * Ingests `parts` (one ingest() call each) into a fresh index and checks every report
 * against the reference, and the index against one built by record().
 */
function checkAgainstReference(config: Config, options: RefOptions, parts: readonly Buffer[]): void {
  const ingested = new ActivityIndex({ ...config, now: frozenClock, maxFutureSkew: Infinity });
  const events: RefEvent[] = [];
  let recorded: ActivityIndex | undefined;
  try {
    for (const part of parts) {
      const expected = referenceIngest(part, options, { userWindow: config.userWindow, watermark: ingested.watermark });
      const report = ingested.ingest(part, options as IngestOptions);
      expectConsistent(report);
      expect(report).toEqual(expected.report);
      events.push(...expected.events);
    }
    ingested.validate();
    recorded = recordedIndex(config, events);
    const { pages, users } = probeKeys(events);
    expect(snapshot(ingested, pages, users)).toEqual(snapshot(recorded, pages, users));
  } finally {
    ingested.close();
    recorded?.close();
  }
}

async function streamIngest(index: ActivityIndex, data: Buffer, cuts: readonly number[], options: IngestOptions): Promise<IngestReport> {
  const stream = index.createIngestStream(options);
  const reports: IngestReport[] = [];
  stream.on('report', (report: IngestReport) => reports.push(report));
  const finished = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  let at = 0;
  for (const cut of [...cuts, data.length]) {
    if (cut < at) continue;
    stream.write(data.subarray(at, cut));
    at = cut;
  }
  stream.end();
  await finished;
  expect(reports).toHaveLength(1);
  expect(reports[0]).toEqual(stream.report);
  return stream.report;
}

describe('ingest() of arbitrary bytes', () => {
  it('never throws; the report adds up; validate() passes; the reference agrees', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.constantFrom<RefOptions>({}, { format: 'common' }, { format: 'ndjson' }, { maxLineBytes: 16 }),
        (bytes, options) => {
          const index = new ActivityIndex({ userWindow: '1h', now: frozenClock, maxFutureSkew: Infinity });
          try {
            const data = Buffer.from(bytes);
            const report = index.ingest(data, options as IngestOptions);
            expectConsistent(report);
            expect(report).toEqual(referenceIngest(data, options, { userWindow: 3_600_000 }).report);
            index.validate();
          } finally {
            index.close();
          }
        },
      ),
      { numRuns },
    );
  });

  it('with sound lines, fragments and random bytes mixed in: as the reference, and as record()', () => {
    fc.assert(
      fc.property(
        indexConfigArb,
        ingestOptionsArb.chain((options) => fc.tuple(fc.constant(options), inputFor(options))),
        (config, [options, data]) => checkAgainstReference(config, options, [data]),
      ),
      { numRuns },
    );
  });
});

describe('ingest() of generated log lines', () => {
  // Generated lines only (no fragments, no random bytes): many lines are accepted, so
  // the index side of the comparison has something to compare.
  const soundInputFor = (options: RefOptions) => inputFor(options, 40, 0);

  it('gives the reference report and indexes what record() of the reference events indexes', () => {
    fc.assert(
      fc.property(
        indexConfigArb,
        ingestOptionsArb.chain((options) => fc.tuple(fc.constant(options), soundInputFor(options))),
        (config, [options, data]) => checkAgainstReference(config, options, [data]),
      ),
      { numRuns },
    );
  });

  it('does so across several ingest() calls on one index (the watermark and late count carry over)', () => {
    fc.assert(
      fc.property(
        indexConfigArb,
        ingestOptionsArb.chain((options) => fc.tuple(fc.constant(options), fc.array(inputFor(options, 10), { minLength: 2, maxLength: 4 }))),
        (config, [options, parts]) => checkAgainstReference(config, options, parts),
      ),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });

  it('accepts a good share of generated lines (the generators are not vacuous)', () => {
    let lines = 0;
    let accepted = 0;
    const everyLine = { methods: 'any', ignoreStatic: false, ignoreCrawlers: false } as const;
    const ruled = { lines: 0, accepted: 0, method: 0, static: 0, crawler: 0 };
    fc.assert(
      fc.property(inputFor({}, 40, 0), (data) => {
        const { report } = referenceIngest(data, everyLine, { userWindow: 3_600_000 });
        lines += report.lines;
        accepted += report.accepted;
        // The same lines under the default view rules: each rule drops some, not all.
        const { report: byRules } = referenceIngest(data, {}, { userWindow: 3_600_000 });
        ruled.lines += byRules.lines;
        ruled.accepted += byRules.accepted;
        for (const reason of ['method', 'static', 'crawler'] as const) ruled[reason] += byRules.reasons[reason] ?? 0;
      }),
      { numRuns: 100, seed: 42 },
    );
    expect(accepted / lines).toBeGreaterThan(0.25);
    expect(ruled.accepted / ruled.lines).toBeGreaterThan(0.05);
    for (const reason of ['method', 'static', 'crawler'] as const) expect(ruled[reason], reason).toBeGreaterThan(0);
    let ndLines = 0;
    let ndAccepted = 0;
    fc.assert(
      fc.property(inputFor({ format: 'ndjson' }, 40, 0), (data) => {
        const { report } = referenceIngest(data, { format: 'ndjson' }, { userWindow: 3_600_000 });
        ndLines += report.lines;
        ndAccepted += report.accepted;
      }),
      { numRuns: 100, seed: 42 },
    );
    expect(ndAccepted / ndLines).toBeGreaterThan(0.25);
  });
});

describe('keys of arbitrary bytes', () => {
  // Bytes biased to the interesting ranges: printable ASCII, controls, lone high bytes,
  // and well-formed UTF-8 of random code points (surrogates excluded by the encoder).
  const keyByteArb = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => [c]) },
    { weight: 1, arbitrary: fc.constantFrom([0x00], [0x01], [0x09], [0x1f], [0x7f], [0x0d]) },
    { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((c) => [c]) },
    { weight: 4, arbitrary: fc.integer({ min: 0x80, max: 0x10ffff }).filter((cp) => cp < 0xd800 || cp > 0xdfff).map((cp) => [...Buffer.from(String.fromCodePoint(cp))]) },
    { weight: 1, arbitrary: fc.constantFrom([0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f, 0x98]) },
  );
  const cleanByteArb = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => [c]) },
    { weight: 4, arbitrary: fc.integer({ min: 0x80, max: 0x10ffff }).filter((cp) => cp < 0xd800 || cp > 0xdfff).map((cp) => [...Buffer.from(String.fromCodePoint(cp))]) },
  );
  // mostly keys that should be accepted (so that the index comparison has content)
  const keyArb = fc
    .oneof({ weight: 3, arbitrary: fc.array(cleanByteArb, { maxLength: 40 }) }, { weight: 1, arbitrary: fc.array(keyByteArb, { maxLength: 40 }) })
    .map((chunks) => Buffer.from(chunks.flat()));

  it('access logs: control bytes, UTF-8 validity and length are judged as the reference does, at any alignment', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyArb, keyArb, fc.nat(20)), { minLength: 1, maxLength: 10 }),
        fc.constantFrom<RefOptions>({}, { maxKeyBytes: 24 }, { keepQuery: true }, { user: 'authuser' }),
        (keys, options) => {
          const lines = keys.map(([user, page, pad]) => {
            const host = user.length === 0 ? Buffer.from('h') : Buffer.from(user.toString('latin1').replace(/[ \n]/g, '_'), 'latin1');
            return Buffer.concat([
              Buffer.from(`${'h'.repeat(pad)}`),
              host,
              Buffer.from(' - '),
              host,
              Buffer.from(` [17/May/2015:10:05:03 +0000] "GET /`),
              Buffer.from(page.toString('latin1').replace(/[ \n"\\]/g, '_'), 'latin1'),
              Buffer.from(' HTTP/1.1" 200 1'),
            ]);
          });
          checkAgainstReference({ usersPerPage: 30, pagesPerUser: 10, userWindow: 3_600_000 }, options, [Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]))]);
        },
      ),
      { numRuns },
    );
  });

  it('ndjson: raw bytes and \\u escapes (surrogates included) in keys are judged as the reference does', () => {
    const escapeArb = fc.integer({ min: 0, max: 0xffff }).map((u) => Buffer.from(`\\u${u.toString(16).padStart(4, '0')}`));
    const jsonKeyArb = fc
      .array(fc.oneof({ weight: 4, arbitrary: keyArb.map((k) => Buffer.from(k.toString('latin1').replace(/["\\\x00-\x1f]/g, '_'), 'latin1')) }, { weight: 1, arbitrary: escapeArb }), { maxLength: 4 })
      .map((parts) => Buffer.concat(parts));
    fc.assert(
      fc.property(fc.array(fc.tuple(jsonKeyArb, jsonKeyArb), { minLength: 1, maxLength: 10 }), fc.constantFrom<RefOptions>({ format: 'ndjson' }, { format: 'ndjson', maxKeyBytes: 24 }), (keys, options) => {
        const lines = keys.map(([user, page]) =>
          Buffer.concat([Buffer.from('{"user":"'), user, Buffer.from('","page":"'), page, Buffer.from(`","ts":${T0}}\n`)]),
        );
        checkAgainstReference({ usersPerPage: 30, pagesPerUser: 10, userWindow: 3_600_000 }, options, [Buffer.concat(lines)]);
      }),
      { numRuns },
    );
  });
});

describe('createIngestStream() cut at random points', () => {
  const cutsFor = (data: Buffer) =>
    fc.oneof(
      fc.uniqueArray(fc.integer({ min: 0, max: data.length }), { maxLength: 30 }).map((cuts) => cuts.sort((a, b) => a - b)),
      fc.integer({ min: 1, max: 8 }).map((size) => Array.from({ length: Math.ceil(data.length / size) }, (_, i) => i * size)),
    );

  it('gives the report and answers of one ingest() of the same bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        indexConfigArb,
        ingestOptionsArb
          .chain((options) => fc.tuple(fc.constant(options), inputFor(options, 15)))
          .chain(([options, data]) => fc.tuple(fc.constant(options), fc.constant(data), cutsFor(data))),
        async (config, [options, data, cuts]) => {
          const whole = new ActivityIndex({ ...config, now: frozenClock, maxFutureSkew: Infinity });
          const streamed = new ActivityIndex({ ...config, now: frozenClock, maxFutureSkew: Infinity });
          try {
            const expected = whole.ingest(data, options as IngestOptions);
            const report = await streamIngest(streamed, data, cuts, options as IngestOptions);
            expect(report).toEqual(expected);
            const { pages, users } = probeKeys(referenceIngest(data, options, { userWindow: config.userWindow }).events);
            expect(snapshot(streamed, pages, users)).toEqual(snapshot(whole, pages, users));
            streamed.validate();
          } finally {
            whole.close();
            streamed.close();
          }
        },
      ),
      { numRuns },
    );
  });

  it('handles long lines cut anywhere: line-too-long, samples cut at 200 bytes mid-character', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 150 }), fc.constantFrom('a', 'é', '€', '😀', '\0', '\x80'), fc.constantFrom('\n', '\r\n', '\r\r\n', '\r', '')),
          { maxLength: 10 },
        ),
        fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 150, max: 700 })),
        fc.uniqueArray(fc.nat(6000), { maxLength: 40 }),
        async (lineSpecs, maxLineBytes, rawCuts) => {
          // runs of one character ('\x80' as a raw byte), rejected whatever their length
          const data = Buffer.concat(
            lineSpecs.map(([n, ch, end]) =>
              Buffer.concat([ch === '\x80' ? Buffer.alloc(n, 0x80) : Buffer.from(ch.repeat(n)), Buffer.from(end)]),
            ),
          );
          const cuts = rawCuts.filter((c) => c <= data.length).sort((a, b) => a - b);
          const whole = new ActivityIndex({ now: frozenClock, maxFutureSkew: Infinity });
          const streamed = new ActivityIndex({ now: frozenClock, maxFutureSkew: Infinity });
          try {
            const expected = whole.ingest(data, { maxLineBytes });
            expectConsistent(expected);
            expect(expected).toEqual(referenceIngest(data, { maxLineBytes }).report);
            expect(await streamIngest(streamed, data, cuts, { maxLineBytes })).toEqual(expected);
          } finally {
            whole.close();
            streamed.close();
          }
        },
      ),
      { numRuns },
    );
  });

});
