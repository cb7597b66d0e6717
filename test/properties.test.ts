// The model-based properties (test/model-properties.ts) with the engine's own choice
// of encodings: small lists as sorted arrays, long ones as skiplists.
import { defineModelProperties } from './model-properties.js';

defineModelProperties({
  encoding: 'default encodings',
  numRuns: process.env.CI ? 1000 : 200,
  longRuns: process.env.CI ? 100 : 25,
});
