// SPEC section 7: the addon is context-aware, so it loads in worker_threads, in several
// at once. Workers load the built CommonJS entry (dist/index.js, from `npm run build:ts`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ActivityIndex } from '../src/index.js';
import { ActivityModel } from './model.js';

const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Runs in each worker: builds an index, records a stream, posts its answers. */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { ActivityIndex } = require(workerData.entry);
const { seed, events, close } = workerData;
const index = new ActivityIndex({ usersPerPage: 5, userWindow: 2000, presenceWindow: 500 });
const batch = [];
for (let i = 0; i < events; i++) {
  batch.push({ user: 'user' + ((i * 7 + seed) % 101), page: '/page' + ((i + seed) % 10), ts: i });
  if (batch.length === 1000) { index.recordMany(batch); batch.length = 0; }
}
index.recordMany(batch);
const answer = {
  lastUsers: index.lastUsers('/page3', 5),
  userPages: index.userPages('user42'),
  onlineUsers: index.onlineUsers('/page7', 1000),
  onlineCount: index.onlineCount(),
  watermark: index.watermark,
};
index.validate();
if (close) index.close();
parentPort.postMessage(answer);
`;

interface WorkerAnswer {
  lastUsers: unknown;
  userPages: unknown;
  onlineUsers: unknown;
  onlineCount: number;
  watermark: number;
}

function runWorker(seed: number, events: number, close = true): Promise<WorkerAnswer> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerSource, { eval: true, workerData: { entry, seed, events, close } });
    let answer: WorkerAnswer | undefined;
    worker.once('message', (message: WorkerAnswer) => (answer = message));
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 && answer ? resolve(answer) : reject(new Error(`worker exited with ${code}`))));
  });
}

/** What the worker must answer, from the reference model. */
function expected(seed: number, events: number): WorkerAnswer {
  const model = new ActivityModel({ usersPerPage: 5, userWindow: 2000, presenceWindow: 500 });
  for (let i = 0; i < events; i++) model.record({ user: `user${(i * 7 + seed) % 101}`, page: `/page${(i + seed) % 10}`, ts: i });
  return {
    lastUsers: model.lastUsers('/page3', 5),
    userPages: model.userPages('user42'),
    onlineUsers: model.onlineUsers('/page7', 1000),
    onlineCount: model.onlineCount(),
    watermark: model.watermark,
  };
}

describe('worker_threads', () => {
  it('finds the built CommonJS entry (run `npm run build:ts` first)', () => {
    expect(existsSync(entry), `${entry} is missing`).toBe(true);
  });

  it('loads the addon in two workers at once, each with its own index', async () => {
    const events = 5000;
    const main = new ActivityIndex();
    const running = [runWorker(1, events), runWorker(2, events)];
    // the main thread uses the addon while the workers do
    for (let i = 0; i < 10_000; i++) main.record(`main${i % 50}`, '/main', i);
    const answers = await Promise.all(running);
    expect(answers[0]).toEqual(expected(1, events));
    expect(answers[1]).toEqual(expected(2, events));
    expect(answers[0]).not.toEqual(answers[1]);
    expect(main.lastUsers('/main', 1)).toEqual([{ user: 'main49', ts: 9999 }]);
    main.close();
  });

  it('refuses to post an index to another thread, saying what to do instead', async () => {
    const index = new ActivityIndex();
    index.record('ann', '/a', 1);
    const { port1, port2 } = new MessageChannel();
    const message = /an ActivityIndex belongs to the thread that created it.*createClient\(\)/;
    expect(() => port1.postMessage(index)).toThrow(message);
    expect(() => port1.postMessage({ nested: [index] })).toThrow(message);
    expect(() => structuredClone(index)).toThrow(message);
    expect(() => new Worker('', { eval: true, workerData: index })).toThrow(message);
    port1.close();
    port2.close();
    // Nothing else changes: the index still answers, and JSON shows no extra member.
    expect(index.lastUsers('/a')).toEqual([{ user: 'ann', ts: 1 }]);
    expect(JSON.stringify(index)).toBe('{}');
    index.close();
  });

  it('loads again in new workers after others exited, closed or not', async () => {
    await runWorker(3, 100, false);
    await runWorker(4, 100, true);
    const answers = await Promise.all([runWorker(5, 2000, false), runWorker(6, 2000, false), runWorker(7, 2000, true)]);
    expect(answers[0]).toEqual(expected(5, 2000));
    expect(answers[1]).toEqual(expected(6, 2000));
    expect(answers[2]).toEqual(expected(7, 2000));
  });

  it('survives workers terminated in the middle of recording', async () => {
    // terminate() lands at a random point, often inside a native call
    for (let round = 0; round < 40; round++) {
      const worker = new Worker(
        `const { ActivityIndex } = require(require('node:worker_threads').workerData.entry);
         const index = new ActivityIndex();
         let i = 0;
         require('node:worker_threads').parentPort.postMessage('started');
         for (;;) index.record('u' + (i % 1000), '/p' + (i % 7), i++);`,
        { eval: true, workerData: { entry } },
      );
      await new Promise((resolve) => worker.once('message', resolve));
      await new Promise((resolve) => setTimeout(resolve, 5 + (round % 10) * 3));
      await worker.terminate();
    }
    expect(await runWorker(8, 1000)).toEqual(expected(8, 1000));
  });
});
