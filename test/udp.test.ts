// UDP on loopback only. Datagrams are sent in small batches and each batch is awaited
// before the next, so that no receive buffer overflows and every count is exact.
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { listenUdp, type UdpSource } from '../src/sources/index.js';
import { openIndex } from './helpers.js';
import { T0, combinedLine, combinedLines, startServe, waitFor } from './live-helpers.js';

async function sender() {
  const socket = dgram.createSocket('udp4');
  onTestFinished(() => {
    socket.close();
  });
  return (port: number, message: string | Buffer) =>
    new Promise<void>((resolve, reject) => socket.send(message, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
}

async function open(options: Partial<Parameters<typeof listenUdp>[1]> = {}) {
  const index = openIndex();
  const source = await listenUdp(index, { port: 0, ...options });
  onTestFinished(() => source.close().then(() => undefined));
  return { index, source };
}

function waitForDatagrams(source: UdpSource, datagrams: number) {
  return waitFor(() => source.stats().datagrams, (count) => count === datagrams, { what: `${datagrams} datagrams` });
}

describe('listenUdp()', () => {
  it('binds to 127.0.0.1 by default and ingests datagrams of one or more lines', async () => {
    const { index, source } = await open();
    expect(source.address.address).toBe('127.0.0.1');
    const send = await sender();
    await send(source.address.port, combinedLine('ann', '/a', T0));
    await send(source.address.port, combinedLines(0, 5)); // several lines in one datagram
    await send(source.address.port, combinedLine('bob', '/a', T0 + 1000).trimEnd()); // no final newline
    await send(source.address.port, combinedLine('cid', '/a', T0 + 2000).trimEnd()); // must not run into the previous one
    await send(source.address.port, Buffer.alloc(0)); // empty: nothing to count
    await send(source.address.port, 'garbage\n\n');
    await waitForDatagrams(source, 6);
    await waitFor(() => source.report.lines, (lines) => lines === 9, { what: '9 lines' });
    expect(source.report).toMatchObject({ lines: 9, accepted: 8, rejected: 1, reasons: { malformed: 1 } });
    expect(index.lastUsers('/a').map((row) => row.user)).toEqual(['cid', 'bob', 'ann']);
  });

  it('accounts for every line of many datagrams', async () => {
    const { index, source } = await open({ format: 'ndjson' });
    const send = await sender();
    let sent = 0;
    let bad = 0;
    for (let batch = 0; batch < 20; batch++) {
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 50; i++) {
        const n = batch * 50 + i;
        const line = n % 97 === 0 ? '{"user":1}' : JSON.stringify({ user: `u${n}`, page: `/p${n % 13}`, ts: T0 + n });
        if (n % 97 === 0) bad++;
        pending.push(send(source.address.port, `${line}\n`));
        sent++;
      }
      await Promise.all(pending);
      await waitForDatagrams(source, sent);
    }
    const report = await source.close();
    expect(report).toMatchObject({ lines: 1000, accepted: 1000 - bad, rejected: bad, late: 0 });
    expect(report.reasons).toEqual({ malformed: bad });
    expect(index.stats().events).toBe(1000 - bad);
    expect(source.stats()).toMatchObject({ datagrams: 1000 });
  });

  it('joins a multicast group (on the loopback interface here) and still takes unicast datagrams', async () => {
    // Only loopback traffic is allowed where the tests run: the group is joined on
    // 127.0.0.1, and the datagrams go to 127.0.0.1, not to the group.
    const { source } = await open({ host: '127.0.0.1', multicast: '239.255.42.42', multicastInterface: '127.0.0.1' });
    const send = await sender();
    await send(source.address.port, combinedLines(0, 3));
    await waitFor(() => source.report.lines, (lines) => lines === 3);
    expect(await source.close()).toMatchObject({ lines: 3, accepted: 3 });
  });

  it('rejects a bad port and reports a port in use', async () => {
    const index = openIndex();
    await expect(listenUdp(index, { port: 70000 })).rejects.toThrow(/options.port must be an integer in 0 \.\. 65535/);
    await expect(listenUdp(index, { port: 'x' } as never)).rejects.toThrow(TypeError);
    await expect(listenUdp(index, { port: 0, mutlicast: '239.1.1.1' } as never)).rejects.toThrow(
      'options.mutlicast is not an option of listenUdp() (did you mean multicast?)',
    );
    await expect(listenUdp(index, { port: 0, format: 'ndjson', keepQuery: true })).rejects.toThrow(
      /options\.keepQuery does not apply to format 'ndjson'/,
    );
    const taken = dgram.createSocket('udp4');
    taken.bind(0, '127.0.0.1');
    await once(taken, 'listening');
    onTestFinished(() => {
      taken.close();
    });
    await expect(listenUdp(index, { port: taken.address().port })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('skiptrail serve --udp', () => {
  it('serves what arrives by UDP', async () => {
    const served = await startServe(['--udp', '0']);
    const port = Number(/udp 127\.0\.0\.1:(\d+)/.exec(served.stderr())![1]);
    const send = await sender();
    await send(port, combinedLines(0, 20, 3));
    await send(port, combinedLine('ann', '/x y', T0, 500));
    await waitFor(async () => (await served.get('/stats')).body.ingest, (ingest) => ingest.lines === 21, { what: '21 lines' });
    const stats = (await served.get('/stats')).body;
    expect(stats.sources).toEqual([expect.objectContaining({ name: `udp:127.0.0.1:${port}`, datagrams: 2, port })]);
    expect(stats.ingest).toMatchObject({ accepted: 20, rejected: 1, reasons: { filtered: 1 } });
    expect((await served.get('/pages/%2Fp1/users?k=2')).body.users).toEqual([
      { user: 'u19', ts: T0 + 19_000 },
      { user: 'u16', ts: T0 + 16_000 },
    ]);
    expect(await served.stop()).toBe(0);
  });
});
