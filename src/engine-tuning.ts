/**
 * Internal, for tests only; the package does not export it. Engine settings that change
 * how the native engine lays its state out, never what an answer is, so that the
 * model-based properties can run once per encoding (as Redis runs its suite once per
 * encoding): with every ranked list in skiplist form, and presence compacting at every
 * chance. Indexes created while a tuning is set use it; each test file has its own
 * module instance, so setting it in one file leaves the others alone.
 */
export interface EngineTuning {
  /** Lists longer than this use the skiplist encoding; 0: every list. Default 128. */
  smallListMax?: number;
  /** A page's presence array is compacted past 1.5 * present + this many arrivals. Default 2. */
  tombstoneSlack?: number;
  /** The presence expiry queue reclaims popped room past this many items. Default 64. */
  queueSlack?: number;
  /**
   * How long one step of a snapshot image made by save() may run, in ms. Default 8. A
   * tiny value makes every image take many steps, so tests of what happens between
   * steps do not depend on how fast the machine is.
   */
  snapshotStepMs?: number;
}

let current: EngineTuning | undefined;

/** Sets the tuning of indexes created from now on; undefined restores the defaults. */
export function setEngineTuning(tuning: EngineTuning | undefined): void {
  current = tuning === undefined ? undefined : { ...tuning };
}

/** The tuning in force, or undefined for the defaults. */
export function engineTuning(): EngineTuning | undefined {
  return current;
}
