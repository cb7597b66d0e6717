// Contender: skiptrail itself, through its public CommonJS entry (dist/index.js, built
// by `npm run build:ts` on top of the native addon). Batches go in with recordMany().

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ENTRY = path.join(ROOT, 'dist', 'index.js');

/** Loads skiptrail's ActivityIndex class, or returns { error } saying why it cannot. */
export function loadSkiptrail() {
  if (!fs.existsSync(ENTRY)) return { error: `${path.relative(process.cwd(), ENTRY)} does not exist (run npm run build)` };
  try {
    const mod = require(ENTRY);
    if (typeof mod.ActivityIndex !== 'function') return { error: `${ENTRY} does not export ActivityIndex` };
    return { ActivityIndex: mod.ActivityIndex, defaults: { methods: mod.DEFAULT_METHODS, staticExtensions: mod.DEFAULT_STATIC_EXTENSIONS, crawlers: mod.DEFAULT_CRAWLERS } };
  } catch (err) {
    return { error: `loading ${ENTRY} failed: ${err.message}` };
  }
}

export function available() {
  const r = loadSkiptrail();
  return r.error ? r.error : true;
}

export function create(options) {
  const { ActivityIndex, error } = loadSkiptrail();
  if (error) throw new Error(error);
  const index = new ActivityIndex({
    usersPerPage: options.usersPerPage,
    userWindow: options.userWindowMs,
    presenceWindow: options.presenceWindowMs,
    pagesPerUser: options.pagesPerUser,
  });
  const contender = {
    name: 'skiptrail',
    sync: true,
    ingest(batch) {
      return index.recordMany(batch);
    },
    lastUsers(page, k) {
      return index.lastUsers(page, k);
    },
    userPages(user, opts) {
      return index.userPages(user, opts);
    },
    onlineUsers(page, k) {
      return index.onlineUsers(page, k);
    },
    onlineCount(page) {
      return index.onlineCount(page);
    },
    get watermark() { return index.watermark; },
    settings() {
      let version = null;
      try { version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version; } catch { /* ignore */ }
      const addon = path.join(ROOT, 'build', 'Release', 'skiptrail.node');
      let addonBuilt = null;
      try { addonBuilt = fs.statSync(addon).mtime.toISOString(); } catch { /* none */ }
      return { skiptrail: version, entry: ENTRY, addon: process.env.SKIPTRAIL_ADDON ?? addon, addonBuilt };
    },
    stats() {
      return index.stats();
    },
    close() {
      index.close();
    },
    index,
  };
  // The native log parser (SPEC section 5), once the facade has it.
  if (typeof index.ingest === 'function') {
    contender.ingestLog = (buffer) => index.ingest(buffer, { format: 'combined' });
  }
  return contender;
}
