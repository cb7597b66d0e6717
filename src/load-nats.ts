/**
 * loadNats(feature): the optional `nats` client, loaded on first use.
 *
 * `nats` is an optional peer dependency: only the NATS sources need it, so `import
 * 'skiptrail'` never loads it and an install without it works. Every module that talks
 * to NATS gets the client through this function, never by a static import (type-only
 * imports are fine: they vanish from the JavaScript).
 */

import type * as Nats from 'nats';

export type NatsModule = typeof Nats;

/** Thrown when a feature needs an optional package that is not installed. code: 'ERR_SKIPTRAIL_MISSING_DEPENDENCY'. */
export class MissingDependencyError extends Error {
  readonly code = 'ERR_SKIPTRAIL_MISSING_DEPENDENCY';
  /** The npm package to install. */
  readonly dependency: string;

  constructor(dependency: string, feature: string, options: { cause: unknown }) {
    super(
      `${feature} needs the '${dependency}' package, an optional peer dependency of skiptrail that is not installed: ` +
        `run \`npm install ${dependency}@2\` in your project`,
      options,
    );
    this.name = 'MissingDependencyError';
    this.dependency = dependency;
  }
}

let loaded: Promise<NatsModule> | null = null;

/**
 * Resolves with the `nats` module, or rejects with a MissingDependencyError naming
 * `feature` (such as 'subscribeNats()') when the package cannot be found. Any other
 * failure while loading it (a broken install) is passed on as it is.
 */
export function loadNats(feature: string): Promise<NatsModule> {
  loaded ??= import('nats');
  return loaded.catch((error: unknown) => {
    loaded = null;
    throw isMissing(error, 'nats') ? new MissingDependencyError('nats', feature, { cause: error }) : error;
  });
}

/** True when `error` says that the package `name` itself (not one of its dependencies) was not found. */
function isMissing(error: unknown, name: string): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    (message.includes(`'${name}'`) || message.includes(`"${name}"`))
  );
}
