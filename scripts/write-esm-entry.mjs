// Writes dist/index.mjs and dist/index.d.mts: the ES module entry re-exports the
// CommonJS build, so both module systems share one addon instance and one class
// (no dual-package hazard).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const names = Object.keys(require('../dist/index.js')).filter((name) => name !== 'default');
const dist = new URL('../dist/', import.meta.url);
writeFileSync(
  new URL('index.mjs', dist),
  `import skiptrail from './index.js';\n\nexport const { ${names.join(', ')} } = skiptrail;\nexport default skiptrail;\n`,
);
// The default export is the CommonJS module's exports object: its type is the namespace.
writeFileSync(
  new URL('index.d.mts', dist),
  `import * as skiptrail from './index.js';\n\nexport * from './index.js';\nexport default skiptrail;\n`,
);
