/**
 * The three properties every decoder of untrusted bytes (network or disk)
 * must have, as one suite a codec's test file runs with its own values:
 *
 *   1. arbitrary bytes decode, or fail with the module's own typed error;
 *   2. encode then decode gives back the value that was encoded;
 *   3. every truncation, and a change of every single byte, of a valid
 *      encoding is refused with the typed error or decodes to a valid value.
 *
 * "Valid" means what the encoder accepts: a decoded value must encode again
 * (encoders assert their invariants) and decode to itself. "Bounded" means a
 * decoder never builds more than it was given: the decoded value, measured
 * in bytes, strings and items, is at most a small multiple of the input, so a
 * forged count or length cannot make it allocate gigabytes.
 *
 * Runs are seeded (fast-check prints the seed and the shrunk input of a
 * failure; FUZZ_SEED=... replays one) and their number is fixed, so the whole
 * set stays within seconds.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';

/** Enough runs to find the bugs of a hand-written format, few enough for `npm test`. */
export const FUZZ_RUNS = 150;

/** Fixed unless FUZZ_SEED replays a printed failure. */
export function fuzzParameters<T>(numRuns = FUZZ_RUNS): fc.Parameters<T> {
  const seed = process.env['FUZZ_SEED'];
  return { numRuns, seed: seed === undefined ? 20261127 : Number(seed) };
}

export interface DecoderUnderTest<T> {
  readonly arbitrary: fc.Arbitrary<T>;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  /** The module's typed decode error: the only thing decode may throw. */
  readonly DecodeError: abstract new (...args: never[]) => Error;
  /** Bytes of arbitrary input: by default any bytes up to 512 long. */
  readonly arbitraryBytes?: fc.Arbitrary<Uint8Array>;
  /** Asserts a decoded value is valid; by default, that it encodes and decodes to itself. */
  checkValid?(decoded: T): void;
}

/** Decoded items per input byte a decoder may build: room for a one-byte flag that becomes a boolean field. */
const DECODED_UNITS_PER_INPUT_BYTE = 4;
/** Room for text a decoder writes itself (the "unsupported" answer to an unknown service). */
const DECODED_UNITS_SLACK = 256;

/** Registers the three properties as tests of the enclosing describe. */
export function decoderProperties<T>(codec: DecoderUnderTest<T>): void {
  it('decodes arbitrary bytes, or refuses them with its typed error, and builds no more than it was given', () => {
    const bytes = codec.arbitraryBytes ?? fc.uint8Array({ maxLength: 512 });
    fc.assert(
      fc.property(bytes, (input) => {
        checkDecodes(codec, input);
      }),
      fuzzParameters(),
    );
  });

  it('gives back every value it encoded', () => {
    fc.assert(
      fc.property(codec.arbitrary, (value) => {
        // A clone: fast-check builds records without a prototype, which a strict comparison would count.
        assert.deepEqual(codec.decode(codec.encode(value)), structuredClone(value));
      }),
      fuzzParameters(),
    );
  });

  it('refuses every truncation and single-byte change of a valid encoding, or decodes it to a valid value', () => {
    fc.assert(
      fc.property(codec.arbitrary, fc.integer({ min: 1, max: 255 }), (value, xorMask) => {
        const encoded = Buffer.from(codec.encode(value));
        for (let lengthBytes = 0; lengthBytes < encoded.byteLength; lengthBytes++) {
          checkDecodes(codec, encoded.subarray(0, lengthBytes));
        }
        for (let position = 0; position < encoded.byteLength; position++) {
          const mutated = Buffer.from(encoded);
          mutated[position] = (mutated[position] ?? 0) ^ xorMask;
          checkDecodes(codec, mutated);
        }
      }),
      fuzzParameters(Math.ceil(FUZZ_RUNS / 3)),
    );
  });
}

/** Decodes `input`: the typed error is fine; anything else thrown, or a result that is not valid, fails. */
function checkDecodes<T>(codec: DecoderUnderTest<T>, input: Uint8Array): void {
  let decoded: T;
  try {
    decoded = codec.decode(input);
  } catch (error) {
    if (error instanceof codec.DecodeError) return;
    throw error;
  }
  assert.ok(
    decodedUnits(decoded) <= DECODED_UNITS_PER_INPUT_BYTE * input.byteLength + DECODED_UNITS_SLACK,
    `${input.byteLength} input bytes decoded into ${decodedUnits(decoded)} units`,
  );
  if (codec.checkValid === undefined) checkReencodes(codec, decoded);
  else codec.checkValid(decoded);
}

export function checkReencodes<T>(codec: Pick<DecoderUnderTest<T>, 'encode' | 'decode'>, decoded: T): void {
  assert.deepEqual(codec.decode(codec.encode(decoded)), decoded, 'a decoded value must encode and decode to itself');
}

/** The size of a decoded value: bytes of byte arrays, code units of strings, one per other item. */
export function decodedUnits(value: unknown): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return 1 + value.reduce((total: number, item) => total + decodedUnits(item), 0);
  if (typeof value === 'object' && value !== null) {
    return 1 + Object.values(value).reduce((total: number, item) => total + decodedUnits(item), 0);
  }
  return 1;
}
