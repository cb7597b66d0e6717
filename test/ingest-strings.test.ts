import { describe, expect, it } from 'vitest';

import { ActivityIndex } from '../src/index.js';

const line = (page: string) => `1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET ${page} HTTP/1.1" 200 512\n`;

function streamReport(index: ActivityIndex, text: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const stream = index.createIngestStream();
    stream.on('report', resolve).on('error', reject);
    stream.end(text);
  });
}

describe('ActivityIndex#ingest() of strings', () => {
  it('rejects a line whose page holds a lone surrogate as bad-encoding, not as U+FFFD', () => {
    const index = new ActivityIndex();
    const report = index.ingest(line('/a\uD800b') + line('/ok\u{1F600}'));
    expect(report).toMatchObject({ lines: 2, accepted: 1, rejected: 1, reasons: { 'bad-encoding': 1 } });
    expect(index.lastUsers('/a\uFFFDb')).toEqual([]);
    expect(index.lastUsers('/ok\u{1F600}')).toEqual([{ user: '1.2.3.4', ts: Date.UTC(2015, 4, 17, 10, 5, 3) }]);
    index.close();
  });

  it('does the same for string chunks written to the stream', async () => {
    const index = new ActivityIndex();
    const report = await streamReport(index, line('/x\uDC00') + line('/y'));
    expect(report).toMatchObject({ lines: 2, accepted: 1, reasons: { 'bad-encoding': 1 } });
    expect(index.lastUsers('/x\uFFFD')).toEqual([]);
    expect(index.lastUsers('/y')).toHaveLength(1);
    index.close();
  });
});
