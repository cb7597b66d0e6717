// IngestStream's events as a caller awaits them: 'report' comes after 'finish', never
// inside end(), so a listener attached after end() still gets it.

import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';

import { ActivityIndex, type IngestReport } from '../src/index.js';

const LINES =
  '1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 512\n' +
  '1.2.3.5 - - [17/May/2015:10:05:04 +0000] "GET /b HTTP/1.1" 404 512\n' +
  'not a log line\n';

const EXPECTED = { lines: 3, accepted: 1, rejected: 2, reasons: { filtered: 1, malformed: 1 } };

describe('IngestStream events', () => {
  it("lets `await once(stream, 'report')` after end() resolve with the final report", async () => {
    const index = new ActivityIndex();
    const stream = index.createIngestStream();
    stream.end(Buffer.from(LINES));
    const [report] = (await once(stream, 'report')) as [IngestReport];
    expect(report).toMatchObject(EXPECTED);
    expect(report).toEqual(stream.report);
    index.close();
  });

  it('lets `await finished(stream)` resolve with stream.report final', async () => {
    const index = new ActivityIndex();
    const stream = index.createIngestStream();
    stream.end(LINES);
    await finished(stream);
    expect(stream.report).toMatchObject(EXPECTED);
    expect(index.lastUsers('/a')).toEqual([{ user: '1.2.3.4', ts: Date.UTC(2015, 4, 17, 10, 5, 3) }]);
    index.close();
  });

  it("emits 'report' once, after 'finish'", async () => {
    const index = new ActivityIndex();
    const stream = index.createIngestStream();
    const order: string[] = [];
    stream.on('finish', () => order.push('finish'));
    stream.on('report', () => order.push('report'));
    stream.end(LINES);
    expect(order).toEqual([]); // nothing inside end()
    await once(stream, 'report');
    expect(order).toEqual(['finish', 'report']);
    index.close();
  });
});
