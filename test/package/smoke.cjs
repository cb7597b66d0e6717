// CommonJS user of an installed skiptrail.
'use strict';
const assert = require('node:assert/strict');
const skiptrail = require('skiptrail');
const { exercise, checkLoadedAddon } = require('./smoke-checks.cjs');

exercise(skiptrail);
assert.equal(typeof skiptrail.subscribeNats, 'function');
console.log(`smoke.cjs: ok (CommonJS, ${checkLoadedAddon()} addon)`);
