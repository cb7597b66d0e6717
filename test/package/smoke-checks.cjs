// The checks both smoke scripts (and the worker) run on an installed skiptrail.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');

const T0 = Date.parse('2026-11-26T10:00:00Z');
const LINE = '203.0.113.9 - - [26/Nov/2026:10:00:02 +0000] "GET /docs?x=1 HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"\n';

/** Records, queries and ingests through `skiptrail` (the package's exports object). */
function exercise(skiptrail) {
  const index = new skiptrail.ActivityIndex({ usersPerPage: 30, userWindow: '30m', presenceWindow: '5m' });
  try {
    index.record('ann', '/pricing', T0);
    assert.equal(index.recordMany([{ user: 'bob', page: '/pricing', ts: T0 + 1000 }]), 1);
    assert.deepEqual(index.lastUsers('/pricing'), [
      { user: 'bob', ts: T0 + 1000 },
      { user: 'ann', ts: T0 },
    ]);
    const report = index.ingest(Buffer.from(LINE), { format: 'combined' });
    assert.equal(report.lines, 1);
    assert.equal(report.accepted, 1);
    assert.deepEqual(index.userPages('203.0.113.9'), [{ page: '/docs', ts: T0 + 2000 }]);
    assert.equal(index.onlineCount(), 3);
    assert.throws(() => index.lastUsers(42), { name: 'TypeError' });
  } finally {
    index.close();
  }
}

/** 'prebuild' or 'source': which addon file this process has mapped. */
function loadedAddon() {
  const files = fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .map((line) => line.split(/\s+/).slice(5).join(' '))
    .filter((file) => /skiptrail[^/]*\.node$/.test(file));
  const unique = [...new Set(files)];
  assert.equal(unique.length, 1, `one skiptrail addon mapped, found: ${unique.join(', ')}`);
  const [file] = unique;
  if (file.endsWith('/node_modules/skiptrail/prebuilds/linux-x64/skiptrail.glibc.node')) return 'prebuild';
  if (file.endsWith('/node_modules/skiptrail/build/Release/skiptrail.node')) return 'source';
  throw new Error(`unexpected addon file ${file}`);
}

/** Fails unless the loaded addon is the one SKIPTRAIL_EXPECT_ADDON names. */
function checkLoadedAddon() {
  const which = loadedAddon();
  assert.equal(which, process.env.SKIPTRAIL_EXPECT_ADDON, 'loaded addon');
  return which;
}

module.exports = { exercise, checkLoadedAddon };
