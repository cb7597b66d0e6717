// Generators for the property tests: small alphabets and small caps and windows, so
// that key collisions, equal times, late events, top-k dropping, expiry and eviction
// all happen often.
import fc from 'fast-check';
import type { ModelOptions, ViewEvent } from './model.js';

// Small alphabets so that users and pages collide often. 'ﬀ' (U+FB00) and '😀' (U+1F600)
// sort one way as UTF-16 and the other way as UTF-8; 'a' is a prefix of 'aa'.
export const USERS = ['a', 'b', 'B', 'aa', 'é', 'ﬀ', '😀', 'a b'] as const;
export const PAGES = ['/', '/a', '/A', '/é', '/ﬀ', '/😀', '/a/b'] as const;
export const UNSEEN_USER = 'nobody';
export const UNSEEN_PAGE = '/never';

export interface Config extends ModelOptions {
  usersPerPage: number;
  pagesPerUser: number;
  userWindow: number;
}

/** Small caps and windows, so that top-k dropping, expiry and eviction all happen. */
export const configArb: fc.Arbitrary<Config> = fc
  .record({
    usersPerPage: fc.integer({ min: 1, max: 5 }),
    pagesPerUser: fc.integer({ min: 1, max: 5 }),
    // A large window now and then: no expiry, so every stats() count can be compared.
    userWindow: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 40 }) }, { weight: 1, arbitrary: fc.constant(1_000_000) }),
    pageWindow: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined, freq: 3 }),
    maxPages: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined, freq: 2 }),
    maxUsers: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined, freq: 2 }),
    presenceFraction: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  })
  .map(({ presenceFraction, ...config }) => {
    const out: Config = { ...config };
    if (presenceFraction !== undefined) out.presenceWindow = Math.max(1, Math.floor(config.userWindow * presenceFraction));
    for (const key of Object.keys(out) as (keyof Config)[]) if (out[key] === undefined) delete out[key];
    return out;
  });

/** Mostly a small range (ties, late events), sometimes a far jump ahead. */
export const tsArb = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 60 }) },
  { weight: 5, arbitrary: fc.constantFrom(0, 30, 60) },
  { weight: 1, arbitrary: fc.integer({ min: 61, max: 200 }) },
);

export interface EventInput extends ViewEvent {
  /** Hand the engine a Date instead of a number. */
  asDate: boolean;
}

export const eventArb: fc.Arbitrary<EventInput> = fc.record({
  user: fc.constantFrom(...USERS),
  page: fc.constantFrom(...PAGES),
  ts: tsArb,
  asDate: fc.boolean(),
});

export const BAD_EVENTS: { event: unknown; error: typeof TypeError | typeof RangeError }[] = [
  { event: { user: '', page: '/', ts: 1 }, error: RangeError },
  { event: { user: 7, page: '/', ts: 1 }, error: TypeError },
  { event: { user: 'a', page: '\uD800', ts: 1 }, error: RangeError },
  { event: { user: 'a', page: '/', ts: -1 }, error: RangeError },
  { event: { user: 'a', page: '/', ts: 1.5 }, error: RangeError },
  { event: { user: 'a', page: '/', ts: '5' }, error: TypeError },
  { event: { user: 'a', page: '/', ts: new Date(NaN) }, error: RangeError },
  { event: null, error: TypeError },
];

export type Step =
  | { kind: 'record'; event: EventInput }
  | { kind: 'many'; events: EventInput[]; as: 'array' | 'generator' | 'set' }
  | { kind: 'bad-batch'; events: EventInput[]; badAt: number; bad: number };

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: eventArb.map((event): Step => ({ kind: 'record', event })) },
  {
    weight: 3,
    arbitrary: fc
      .record({ events: fc.array(eventArb, { maxLength: 8 }), as: fc.constantFrom('array', 'generator', 'set') })
      .map(({ events, as }): Step => ({ kind: 'many', events, as })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ events: fc.array(eventArb, { maxLength: 4 }), badAt: fc.nat(), bad: fc.nat(BAD_EVENTS.length - 1) })
      .map(({ events, badAt, bad }): Step => ({ kind: 'bad-batch', events, badAt: badAt % (events.length + 1), bad })),
  },
);

export interface UserPagesProbe {
  window: number;
  /** now = watermark + nowOffset (at least 0); undefined: the default. */
  nowOffset: number | undefined;
  limit: number | undefined;
  nowAsDate: boolean;
}

export const probeArb: fc.Arbitrary<UserPagesProbe> = fc.record({
  window: fc.integer({ min: 1, max: 40 }),
  nowOffset: fc.option(fc.integer({ min: -30, max: 30 }), { nil: undefined }),
  limit: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
  nowAsDate: fc.boolean(),
});


/**
 * Keys whose UTF-8 order differs from their UTF-16 order: U+FFFD and U+FB00 are single
 * UTF-16 units above the surrogates (0xD800–0xDFFF) but encode as EF xx xx in UTF-8,
 * below the F0 lead byte of every astral character.
 */
export const TRICKY_KEYS = ['a', 'aa', 'é', 'ﬀ', '\uFFFD', '😀', '\u{10000}', '\u{10FFFF}'] as const;

/** Few distinct times, so that nearly every comparison is a tie broken by key. */
export const tieEventArb: fc.Arbitrary<EventInput> = fc.record({
  user: fc.constantFrom(...TRICKY_KEYS),
  page: fc.constantFrom(...TRICKY_KEYS.map((key) => `/${key}`)),
  ts: fc.integer({ min: 0, max: 2 }),
  asDate: fc.constant(false),
});
