// Command-line options of the benchmark scripts: node:util's parseArgs (strict, so an
// unknown flag or a missing value is an error), plus the conversions every script needs.
//
//   const args = benchArgs(process.argv.slice(2), {
//     events: { type: 'int', default: 1_000_000, min: 1 },     // --events 10_000_000
//     resolution: { type: 'string', default: 'ms', choices: ['ms', 's'] },
//     contenders: { type: 'list', default: null },               // --contenders a,b,c
//     'no-log': { type: 'boolean' },                             // → args.noLog
//   }, { help: import.meta.url });
//
// Types: 'int' (an integer), 'number' (finite), 'string', 'list' (comma-separated
// strings), 'boolean' (a flag, false unless given). Numbers may use `_` as a digit
// separator. `min` and `choices` bound the value. Flag names map to camelCase keys.
// A bad or unknown flag prints the reason (naming the flag) and exits with status 2.
// With { help: scriptUrl }, `-h`/`--help` prints the script's leading `//` comment and
// exits 0.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const camel = (name) => name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

function convert(flag, def, raw) {
  switch (def.type) {
    case 'boolean':
      return raw === true;
    case 'string':
      if (def.choices && !def.choices.includes(raw)) throw new Error(`--${flag} must be one of ${def.choices.join(', ')} (got ${JSON.stringify(raw)})`);
      return raw;
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'int':
    case 'number': {
      const v = Number(raw.replace(/_/g, ''));
      const ok = def.type === 'int' ? Number.isInteger(v) : Number.isFinite(v);
      if (!ok || raw.trim() === '') throw new Error(`--${flag} needs ${def.type === 'int' ? 'an integer' : 'a number'} (got ${JSON.stringify(raw)})`);
      if (def.min !== undefined && v < def.min) throw new Error(`--${flag} must be >= ${def.min} (got ${v})`);
      return v;
    }
    default:
      throw new Error(`benchArgs: unknown type ${def.type} for --${flag}`);
  }
}

export function benchArgs(argv, spec, { help } = {}) {
  if (help && (argv.includes('-h') || argv.includes('--help'))) {
    const text = fs.readFileSync(fileURLToPath(help), 'utf8').split('\n');
    const end = text.findIndex((l) => !l.startsWith('//'));
    console.log(text.slice(0, end < 0 ? text.length : end).map((l) => l.slice(3)).join('\n'));
    process.exit(0);
  }
  try {
    const options = Object.fromEntries(Object.entries(spec).map(([flag, def]) => [flag, { type: def.type === 'boolean' ? 'boolean' : 'string' }]));
    const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
    const out = {};
    for (const [flag, def] of Object.entries(spec)) {
      const raw = values[flag];
      out[camel(flag)] = raw === undefined ? (def.type === 'boolean' ? false : def.default) : convert(flag, def, raw);
    }
    return out;
  } catch (err) {
    const script = process.argv[1] ? process.argv[1].split('/').slice(-2).join('/') : 'bench';
    fs.writeSync(2, `${script}: ${err.message}${help ? ' (try --help)' : ''}\n`);
    process.exit(2);
  }
}
