// package.json, binding.gyp and package-lock.json agree with each other and with what
// the package promises (docs/install.md): the Node-API version, run-time dependencies
// only, the optional nats peer, and a lockfile npm will not rewrite. scripts/pack-test.sh
// tests the packed tarball itself.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addon } from '../src/binding.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
const gyp = fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8');

describe('the Node-API version', () => {
  const defined = Number(/"NAPI_VERSION=(\d+)"/.exec(gyp)?.[1]);

  it('is the same in binding.gyp, package.json and the loaded addon', () => {
    expect(defined).toBeGreaterThan(0);
    expect(pkg.binary.napi_versions).toEqual([defined]);
    expect(addon.napiVersion).toBe(defined);
  });

  it('is one that every Node allowed by engines has (Node 20.0.0 shipped Node-API 8)', () => {
    expect(pkg.engines.node).toBe('>=20');
    expect(defined).toBeLessThanOrEqual(8);
  });
});

describe('dependencies', () => {
  it('are only what the library needs at run time: what src/ imports, and the headers a source build reads', () => {
    const sources = fs.readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const code = sources.map((file) => fs.readFileSync(path.join(ROOT, 'src', file), 'utf8')).join('\n');
    for (const name of Object.keys(pkg.dependencies)) {
      if (name === 'node-addon-api') {
        expect(gyp).toContain("require('node-addon-api')");
      } else {
        expect(code, name).toMatch(new RegExp(`(from |require\\()'${name}'`));
      }
    }
    expect(pkg.dependencies).toHaveProperty('node-gyp-build');
    for (const tool of ['node-gyp', 'prebuildify', 'typescript']) {
      expect(pkg.dependencies).not.toHaveProperty(tool);
      expect(pkg.devDependencies).toHaveProperty(tool);
    }
  });

  it('make nats an optional peer', () => {
    expect(pkg.peerDependencies).toEqual({ nats: pkg.devDependencies.nats });
    expect(pkg.peerDependenciesMeta).toEqual({ nats: { optional: true } });
  });

  it('are in package-lock.json as npm writes it, so that npm install leaves a clone clean', () => {
    const root = lock.packages[''];
    for (const field of ['name', 'version', 'license', 'dependencies', 'devDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'engines']) {
      expect(root[field], field).toEqual(pkg[field]);
    }
    expect(root.hasInstallScript).toBe(true);
  });
});

describe('the package files', () => {
  it('ship the prebuilds, which git ignores', () => {
    expect(pkg.files).toContain('prebuilds');
    expect(fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('prebuilds/');
  });

  it('ship the install script and what it imports', () => {
    expect(pkg.scripts.install).toBe('node scripts/install.mjs');
    const imports = [...fs.readFileSync(path.join(ROOT, 'scripts', 'install.mjs'), 'utf8').matchAll(/from '\.\/([^']+)'/g)].map((m) => m[1]);
    for (const file of ['install.mjs', ...imports]) expect(pkg.files).toContain(`scripts/${file}`);
  });
});

describe('scripts/node-headers.mjs', async () => {
  // @ts-expect-error: a plain JavaScript build script without types
  const { localNodedir, withLocalNodedir } = (await import('../scripts/node-headers.mjs')) as {
    localNodedir(execPath: string, version: string): string | null;
    withLocalNodedir(env: Record<string, string | undefined>): Record<string, string | undefined>;
  };
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'skiptrail-headers-'));
  fs.mkdirSync(path.join(prefix, 'include', 'node'), { recursive: true });
  fs.writeFileSync(
    path.join(prefix, 'include', 'node', 'node_version.h'),
    '#define NODE_MAJOR_VERSION 20\n#define NODE_MINOR_VERSION 11\n#define NODE_PATCH_VERSION 1\n',
  );
  const execPath = path.join(prefix, 'bin', 'node');

  it("finds the headers installed beside a Node binary when they are that Node's version", () => {
    try {
      expect(localNodedir(execPath, '20.11.1')).toBe(prefix);
      expect(localNodedir(execPath, '20.11.2')).toBeNull();
      expect(localNodedir(path.join(ROOT, 'no-such', 'bin', 'node'), '20.11.1')).toBeNull();
    } finally {
      fs.rmSync(prefix, { recursive: true, force: true });
    }
  });

  it('leaves a configured nodedir alone', () => {
    expect(withLocalNodedir({ npm_config_nodedir: '/opt/node' }).npm_config_nodedir).toBe('/opt/node');
  });
});

describe('the docs', () => {
  it('stand alone: nothing users read points at the workspace SPEC (docs/contract.md holds the contract)', () => {
    const files = [
      'README.md',
      ...fs.readdirSync(path.join(ROOT, 'docs')).map((file) => path.join('docs', file)),
      ...fs.readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).map((file) => path.join('src', file)),
    ].filter((file) => /\.(md|ts)$/.test(file));
    const offenders = files.filter((file) => /\bSPEC\b|shared\/SPEC/.test(fs.readFileSync(path.join(ROOT, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
