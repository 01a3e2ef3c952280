/**
 * The bounds of a benchmark plan, shared by `raftkv bench` and `npm run bench`
 * (which checks its flags before starting a group it would then stop).
 */
import { VALUE_BYTES_MAX } from '../kv/commands.js';
import { CALLS_IN_FLIGHT_MAX_DEFAULT } from '../transport/index.js';

/** All clients share one connection per member, and a connection refuses calls past this many in flight. */
export const CLIENTS_MAX = CALLS_IN_FLIGHT_MAX_DEFAULT;
/** Key indexes are written with 8 digits, and the zipfian constant is a pass over the keys. */
export const KEYS_MAX = 10_000_000;
export const DURATION_SECONDS_MAX = 3_600;
export const VALUE_BYTES_PLAN_MAX = VALUE_BYTES_MAX;

export const PLAN_DEFAULTS = {
  clients: 32,
  keys: 10_000,
  valueBytes: 256,
  durationSeconds: 10,
  seed: 1,
} as const;
