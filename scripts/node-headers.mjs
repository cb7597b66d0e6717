// Where node-gyp finds Node's headers, so that a source build needs no download.
//
// node-gyp compiles against the headers in `nodedir` when that is set (npm config
// `nodedir`, env npm_config_nodedir); otherwise it downloads
// https://nodejs.org/download/release/v<version>/node-v<version>-headers.tar.gz into its
// devdir (~/.cache/node-gyp/<version>). Node's own installs (the nodejs.org tarballs,
// nvm, NodeSource's and the Docker images' packages) put the headers beside the binary,
// in <prefix>/include/node. withLocalNodedir() points node-gyp there when their version
// is the running Node's, and leaves a configured nodedir alone.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The prefix whose include/node holds this Node's own headers, or null. */
export function localNodedir(execPath = process.execPath, version = process.versions.node) {
  const prefix = path.resolve(path.dirname(execPath), '..');
  let header;
  try {
    header = readFileSync(path.join(prefix, 'include', 'node', 'node_version.h'), 'utf8');
  } catch {
    return null;
  }
  const part = (name) => header.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`))?.[1];
  return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}` === version ? prefix : null;
}

/** `env` with npm_config_nodedir set to the local headers when none is configured and they exist. */
export function withLocalNodedir(env = process.env) {
  if (env.npm_config_nodedir) return env;
  const nodedir = localNodedir();
  return nodedir === null ? env : { ...env, npm_config_nodedir: nodedir };
}
