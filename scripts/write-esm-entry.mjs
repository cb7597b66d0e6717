// Writes the ES module entries, dist/index.mjs and dist/cluster/index.mjs, and their
// .d.mts types: each re-exports its CommonJS build, so both module systems share one
// addon instance and one class (no dual-package hazard).
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
for (const entry of ['index', 'cluster/index']) {
  const names = Object.keys(require(`../dist/${entry}.js`)).filter((name) => name !== 'default');
  const file = new URL(`../dist/${entry}`, import.meta.url);
  writeFileSync(
    new URL(`${file.href}.mjs`),
    `import skiptrail from './index.js';\n\nexport const { ${names.join(', ')} } = skiptrail;\nexport default skiptrail;\n`,
  );
  // The default export is the CommonJS module's exports object: its type is the namespace.
  writeFileSync(
    new URL(`${file.href}.d.mts`),
    `import * as skiptrail from './index.js';\n\nexport * from './index.js';\nexport default skiptrail;\n`,
  );
}
