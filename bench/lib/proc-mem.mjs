// Memory of a server process tree, from /proc (Linux): RSS and PSS summed over the
// process and all its descendants. PSS splits shared pages (PostgreSQL's shared buffers)
// between the processes that map them, so the sum is not double-counted.

import fs from 'node:fs';

function childrenOf(pid) {
  const kids = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(d));
    } catch { /* exited */ }
  }
  return kids;
}

function field(text, name) {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** { rssBytes, pssBytes, processes } for pid and its descendants, or null. */
export function processTreeMemory(pid) {
  if (!pid) return null;
  const seen = new Set();
  const stack = [pid];
  let rss = 0;
  let pss = 0;
  while (stack.length) {
    const p = stack.pop();
    if (seen.has(p)) continue;
    seen.add(p);
    try {
      const roll = fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      rss += field(roll, 'Rss');
      pss += field(roll, 'Pss');
    } catch {
      continue;
    }
    stack.push(...childrenOf(p));
  }
  return seen.size ? { rssBytes: rss, pssBytes: pss, processes: seen.size } : null;
}
