// The optional `nats` peer: loaded on first use by the NATS sources, never by
// `import 'skiptrail'`, and a clear error when it is not installed. The child processes
// load the built dist/ (npm test builds it first), as an installed package would.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadNats, MissingDependencyError } from '../src/load-nats.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Runs a script in a new node process from `cwd` and returns what it printed. */
function runNode(args: string[], cwd: string): string {
  const env = { ...process.env };
  delete env.NODE_PATH;
  return execFileSync(process.execPath, args, { cwd, env, encoding: 'utf8' }).trim();
}

describe('loadNats()', () => {
  it('resolves with the nats client when it is installed', async () => {
    const nats = await loadNats('a test');
    expect(typeof nats.connect).toBe('function');
  });

  it('rejects with a MissingDependencyError saying what to install when nats is absent', () => {
    // A copy of the built loader in a folder with no node_modules above it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-no-nats-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.copyFileSync(path.join(ROOT, 'dist', 'load-nats.js'), path.join(dir, 'load-nats.js'));
    const script = `
      const { loadNats, MissingDependencyError } = require('./load-nats.js');
      loadNats('subscribeNats()').then(
        () => console.log('loaded'),
        (error) => console.log(JSON.stringify({
          isClass: error instanceof MissingDependencyError, name: error.name, code: error.code,
          dependency: error.dependency, message: error.message, cause: error.cause?.code,
        })),
      );`;
    const result = JSON.parse(runNode(['-e', script], dir)) as Record<string, unknown>;
    expect(result).toMatchObject({
      isClass: true,
      name: 'MissingDependencyError',
      code: 'ERR_SKIPTRAIL_MISSING_DEPENDENCY',
      dependency: 'nats',
      cause: 'ERR_MODULE_NOT_FOUND',
    });
    expect(result.message).toContain('subscribeNats() needs the \'nats\' package');
    expect(result.message).toContain('npm install nats@2');
  });

  it('is exported as a class programs can test for', () => {
    const error = new MissingDependencyError('nats', 'x', { cause: null });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ERR_SKIPTRAIL_MISSING_DEPENDENCY');
  });
});

describe("import 'skiptrail'", () => {
  const natsLoaded = `Object.keys(require.cache).filter((file) => file.includes('${path.sep}node_modules${path.sep}nats${path.sep}')).length`;

  it('does not load nats (CommonJS)', () => {
    expect(runNode(['-e', `require('./dist/index.js'); console.log(${natsLoaded})`], ROOT)).toBe('0');
  });

  it('does not load nats (ES module), while subscribeNats() does', () => {
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const skiptrail = await import('./dist/index.mjs');
      const before = ${natsLoaded};
      await import('./dist/load-nats.js').then((m) => m.loadNats('test'));
      console.log(before, ${natsLoaded} > 0);`;
    expect(runNode(['--input-type=module', '-e', script], ROOT)).toBe('0 true');
  });
});
