// Machine and version facts printed and stored with every result (STYLE rule 9).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function packageVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

function osRelease() {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    return m ? m[1] : null;
  } catch {
    return null;
  }
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    distro: osRelease(),
    node: process.version,
    v8: process.versions.v8,
  };
}

export function packageVersions() {
  const names = ['benchmark', 'better-sqlite3', 'pg', 'mysql2', 'ioredis'];
  const out = { skiptrail: null };
  try { out.skiptrail = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version; } catch { /* none */ }
  for (const n of names) out[n] = packageVersion(n);
  return out;
}

export function machineLine(m = machineInfo()) {
  return `${m.cpu} × ${m.cores} cores, ${m.memoryGiB} GiB, ${m.distro ?? m.os}, Node ${m.node}`;
}

/** Local date-time stamp for result file names: 2026-05-20T14-03-11. */
export function stamp(d = new Date()) {
  const p = (v) => String(v).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}
