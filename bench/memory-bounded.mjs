// node bench/memory-bounded.mjs [--events N] [--pages N] [--users N] [--every N]
//
// Memory at the defaults on an endless stream of new keys (issue 10, README "Memory"):
// streams --events (50,000,000) views over --pages (10,000,000) distinct pages and
// --users (5,000,000) distinct users into an index created with no options, one event
// per millisecond of stream time ending at the wall clock, by recordMany batches of
// 10,000, and prints stats() every --every (2,500,000) events. With the default caps
// (maxPages and maxUsers 1,000,000) memoryBytes must level off once they are reached;
// the last column compares it with its value at the first print past both caps.

import os from 'node:os';
import { loadSkiptrail } from './contenders/skiptrail.mjs';
import { benchArgs } from './lib/args.mjs';
import { machineLine } from './lib/machine.mjs';

const { events: EVENTS, pages: PAGES, users: USERS, every: EVERY } = benchArgs(process.argv.slice(2), {
  events: { type: 'int', default: 50_000_000, min: 1 },
  pages: { type: 'int', default: 10_000_000, min: 1 },
  users: { type: 'int', default: 5_000_000, min: 1 },
  every: { type: 'int', default: 2_500_000, min: 1 },
}, { help: import.meta.url });
const BATCH = 10_000;

const loaded = loadSkiptrail();
if (loaded.error) throw new Error(loaded.error);
const { ActivityIndex } = loaded.module ?? loaded;
const index = new ActivityIndex();
const { maxPages, maxUsers } = index.options;
console.log(`# ${machineLine()}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`# ${EVENTS.toLocaleString('en-US')} events, ${PAGES.toLocaleString('en-US')} pages, ${USERS.toLocaleString('en-US')} users; defaults maxPages ${maxPages}, maxUsers ${maxUsers}`);
console.log('events\tpages\tusers\tentries\tevicted\tmemoryMiB\tvsCapped');

// Page and user ids are scrambled (a multiplicative permutation) so that keys arrive
// in no particular order, as on a real site; every key recurs once per cycle.
const scramble = (i, n) => Number((BigInt(i) * 2654435761n) % BigInt(n));
const start = Date.now() - EVENTS;
const events = Array.from({ length: BATCH }, () => ({ user: '', page: '', ts: 0 }));
let capped = null;
const started = performance.now();
for (let done = 0; done < EVENTS; done += BATCH) {
  for (let j = 0; j < BATCH; j++) {
    const i = done + j;
    const event = events[j];
    event.user = `10.${scramble(i, USERS)}`;
    event.page = `/articles/${scramble(i * 7 + 3, PAGES)}`;
    event.ts = start + i;
  }
  index.recordMany(events);
  const total = done + BATCH;
  if (total % EVERY === 0) {
    const stats = index.stats();
    const mib = stats.memoryBytes / 2 ** 20;
    if (capped === null && stats.pages >= maxPages && stats.users >= Math.min(maxUsers, 1)) capped = mib;
    const ratio = capped === null ? '' : (mib / capped).toFixed(3);
    console.log(`${total}\t${stats.pages}\t${stats.users}\t${stats.entries}\t${stats.evicted}\t${mib.toFixed(1)}\t${ratio}`);
  }
}
console.log(`# ${((performance.now() - started) / 1000).toFixed(1)} s; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
