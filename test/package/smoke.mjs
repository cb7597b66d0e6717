// ES module user of an installed skiptrail: the named and default exports, a worker
// thread with its own instance of the addon, and the optional nats peer left out.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import skiptrail, { ActivityIndex, MissingDependencyError, subscribeNats } from 'skiptrail';

const require = createRequire(import.meta.url);
const { exercise, checkLoadedAddon } = require('./smoke-checks.cjs');

assert.equal(skiptrail.ActivityIndex, ActivityIndex, 'default export is the exports object');
exercise({ ActivityIndex });

// nats is not installed in the test project: the NATS source says what to install.
await assert.rejects(subscribeNats(new ActivityIndex(), { subject: 'logs', servers: 'nats://127.0.0.1:9' }), (error) => {
  assert.ok(error instanceof MissingDependencyError);
  assert.equal(error.code, 'ERR_SKIPTRAIL_MISSING_DEPENDENCY');
  assert.match(error.message, /npm install nats/);
  return true;
});

const worker = new Worker(
  `const { exercise } = require(${JSON.stringify(require.resolve('./smoke-checks.cjs'))});
   import('skiptrail').then((m) => { exercise(m); require('node:worker_threads').parentPort.postMessage('ok'); });`,
  { eval: true },
);
const message = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
assert.equal(message, 'ok');
await worker.terminate();

console.log(`smoke.mjs: ok (ES module and a worker thread, ${checkLoadedAddon()} addon)`);
