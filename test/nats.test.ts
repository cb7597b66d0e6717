// A real nats-server on 127.0.0.1 and a random port. The publisher is a separate
// process, killed and restarted between batches; each batch is flushed (the server has
// taken every message) before the publisher acknowledges it, so every line sent is
// known and must show up in each subscriber's report.
//
// nats-server comes from Debian (scripts/ensure-nats.sh, which .ci/run calls). When it
// is missing this file runs the script; if it still is, the tests are skipped, except
// under CI=true, where they fail.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { subscribeNats, type NatsSource } from '../src/sources/index.js';
import { openIndex } from './helpers.js';
import { ROOT, T0, freePort, startServe, waitFor } from './live-helpers.js';
import { NATS_REQUIRED, NatsServer, ensureNatsServer } from './nats-server.js';

const NATS_SERVER = ensureNatsServer();
const MUST_RUN = NATS_REQUIRED;

// Reads JSON lines { subject, messages } on stdin; publishes, flushes, answers "ok <n>".
const PUBLISHER = `
const { connect } = require('nats');
const { createInterface } = require('readline');
(async () => {
  const nc = await connect({ servers: process.argv[1], name: 'test publisher' });
  process.stdout.write('ready\\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const { subject, messages } = JSON.parse(line);
    for (const message of messages) nc.publish(subject, Buffer.from(message));
    await nc.flush();
    process.stdout.write('ok ' + messages.length + '\\n');
  }
  await nc.drain();
})().catch((error) => { console.error(error); process.exit(1); });
`;

/** A publisher process; publish() resolves once the server has taken every message. */
async function startPublisher(url: string) {
  const child = spawn(process.execPath, ['-e', PUBLISHER, url], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const replies = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const reply = await replies.next();
    if (reply.done === true) throw new Error('the publisher exited');
    return reply.value as string;
  };
  expect(await next()).toBe('ready');
  return {
    async publish(subject: string, messages: string[]) {
      child.stdin!.write(`${JSON.stringify({ subject, messages })}\n`);
      expect(await next()).toBe(`ok ${messages.length}`);
    },
    async kill() {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Lines n .. n + count - 1 as NDJSON, `perMessage` lines to a message; every 50th line is bad. */
function messagesOf(first: number, count: number, perMessage: number) {
  const messages: string[] = [];
  let bad = 0;
  for (let start = first; start < first + count; start += perMessage) {
    let text = '';
    for (let n = start; n < Math.min(start + perMessage, first + count); n++) {
      if (n % 50 === 49) {
        text += `{"user":"u${n}","page":"/p","ts":"not a time"}\n`;
        bad++;
      } else {
        text += `${JSON.stringify({ user: `u${n}`, page: `/p${n % 9}`, ts: T0 + n * 1000 })}\n`;
      }
    }
    // Every third message leaves out its final newline: the source must add it.
    messages.push(messages.length % 3 === 2 ? text.slice(0, -1) : text);
  }
  return { messages, bad };
}

function waitForLines(source: NatsSource, lines: number) {
  return waitFor(() => source.report.lines, (value) => value === lines, { what: `${lines} lines`, timeoutMs: 15_000 });
}

describe.skipIf(NATS_SERVER === null && !MUST_RUN)('NATS', () => {
  let server: NatsServer;

  beforeAll(async () => {
    if (NATS_SERVER === null) throw new Error('nats-server is missing and scripts/ensure-nats.sh could not install it (CI is set, so this fails)');
    server = new NatsServer(NATS_SERVER, await freePort());
    await server.start();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('checks its options before connecting: a misspelled one is a RangeError naming the nearest', async () => {
    const index = openIndex();
    await expect(subscribeNats(index, { servers: server.url, subjet: 'logs' } as never)).rejects.toThrow(
      'options.subjet is not an option of subscribeNats() (did you mean subject?)',
    );
    await expect(subscribeNats(index, { servers: server.url, subject: 5 } as never)).rejects.toThrow(TypeError);
    await expect(subscribeNats(index, { servers: server.url, subject: 'logs', fields: { user: 'u' } })).rejects.toThrow(
      /options\.fields does not apply to format 'combined'/,
    );
  });

  it('feeds every subscribing index every line, across a publisher killed and restarted mid-stream', async () => {
    const subject = 'logs.test1';
    const first = openIndex();
    const second = openIndex();
    const sources = [
      await subscribeNats(first, { servers: server.url, subject, format: 'ndjson' }),
      await subscribeNats(second, { servers: server.url, subject: 'logs.>', format: 'ndjson' }),
    ];
    onTestFinished(() => Promise.all(sources.map((source) => source.close())).then(() => undefined));

    let publisher = await startPublisher(server.url);
    let sent = 0;
    let bad = 0;
    const send = async (count: number, perMessage: number) => {
      const batch = messagesOf(sent, count, perMessage);
      await publisher.publish(subject, batch.messages);
      sent += count;
      bad += batch.bad;
    };
    await send(300, 1);
    await send(300, 7);
    await publisher.kill();
    publisher = await startPublisher(server.url);
    await send(400, 25);
    await publisher.kill();
    publisher = await startPublisher(server.url);
    await send(200, 200);

    expect(sent).toBe(1200);
    for (const source of sources) {
      await waitForLines(source, sent);
      expect(source.report).toMatchObject({ lines: sent, accepted: sent - bad, rejected: bad, reasons: { 'bad-time': bad } });
    }
    const reference = openIndex();
    const all = messagesOf(0, sent, 1).messages.map((message) => (message.endsWith('\n') ? message : `${message}\n`));
    reference.ingest(all.join(''), { format: 'ndjson' });
    for (const index of [first, second]) {
      expect(index.stats().events).toBe(sent - bad);
      expect(index.lastUsers('/p4')).toEqual(reference.lastUsers('/p4'));
      expect(index.onlineCount()).toBe(reference.onlineCount());
    }
    const finals = await Promise.all(sources.map((source) => source.close()));
    for (const report of finals) expect(report.lines).toBe(report.accepted + report.rejected);
  });

  it('shares messages within a queue group and lets sources share one connection', async () => {
    const subject = 'logs.queue';
    const indexes = [openIndex(), openIndex()];
    const a = await subscribeNats(indexes[0]!, { servers: server.url, subject, queue: 'skiptrail', format: 'ndjson' });
    const b = await subscribeNats(indexes[1]!, { connection: a.connection, subject, queue: 'skiptrail', format: 'ndjson' });
    onTestFinished(async () => {
      await b.close();
      await a.close();
    });
    const publisher = await startPublisher(server.url);
    const { messages, bad } = messagesOf(0, 500, 1);
    await publisher.publish(subject, messages);
    await waitFor(() => a.report.lines + b.report.lines, (lines) => lines === 500, { what: '500 lines between the two' });
    expect(a.report.rejected + b.report.rejected).toBe(bad);
    expect(indexes[0]!.stats().events + indexes[1]!.stats().events).toBe(500 - bad);
    await b.close();
    expect(a.connection.isClosed()).toBe(false); // b did not own it
  });

  it('reconnects by itself when the server restarts, and goes on counting', async () => {
    const subject = 'logs.restart';
    const index = openIndex();
    const source = await subscribeNats(index, {
      servers: server.url,
      subject,
      format: 'ndjson',
      connect: { reconnectTimeWait: 50, reconnectJitter: 0 },
    });
    onTestFinished(() => source.close().then(() => undefined));
    let publisher = await startPublisher(server.url);
    await publisher.publish(subject, messagesOf(0, 100, 10).messages);
    await waitForLines(source, 100);

    await publisher.kill();
    await server.stop();
    await waitFor(() => source.stats().disconnects, (count) => count >= 1, { what: 'the disconnect' });
    await server.start();
    await waitFor(() => source.stats().reconnects, (count) => count >= 1, { what: 'the reconnect', timeoutMs: 15_000 });
    await source.connection.flush(); // the server has the re-sent subscription

    publisher = await startPublisher(server.url);
    await publisher.publish(subject, messagesOf(100, 100, 10).messages);
    await waitForLines(source, 200);
    expect(source.report).toMatchObject({ lines: 200, accepted: 196, rejected: 4 });
    expect(source.stats()).toMatchObject({ messages: 20, reconnects: 1, server: `127.0.0.1:${server.port}` });
  });

  it('fails to subscribe when no server answers', async () => {
    const index = openIndex();
    const port = await freePort();
    await expect(subscribeNats(index, { servers: `nats://127.0.0.1:${port}`, subject: 'x' })).rejects.toThrow();
  });

  it('serve --nats feeds the served index', async () => {
    const subject = 'logs.serve';
    const served = await startServe(['--nats', server.url, '--subject', subject, '--format', 'ndjson']);
    let publisher = await startPublisher(server.url);
    await publisher.publish(subject, messagesOf(0, 120, 4).messages);
    await publisher.kill();
    publisher = await startPublisher(server.url);
    await publisher.publish(subject, messagesOf(120, 80, 8).messages);
    const ingest = await waitFor(
      async () => (await served.get('/stats')).body.ingest,
      (value) => value.lines === 200,
      { what: '200 lines served' },
    );
    expect(ingest).toMatchObject({ lines: 200, accepted: 196, rejected: 4 });
    const stats = (await served.get('/stats')).body;
    expect(stats.sources).toEqual([expect.objectContaining({ name: `nats:${subject}`, messages: 30 + 10, subject })]);
    expect((await served.get('/pages/%2Fp3/users?k=1')).body.users).toEqual([{ user: 'u192', ts: T0 + 192_000 }]);
    expect(await served.stop()).toBe(0);
  });
});
