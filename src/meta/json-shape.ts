/**
 * Strict readers for JSON the meta layer did not build itself: commands from
 * the log, replies from the wire, snapshot records. JSON.parse says only that
 * the text is JSON; these check the shape, field by field, and name the path
 * of the first thing out of place. Unknown fields are refused too, so that a
 * typo in a hand-written command ("gids" for "gid") is an error, not ignored.
 */
import { MetaDecodeError } from './errors.js';

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** The JSON value in `bytes`, which must be valid UTF-8 and at most `sizeBytesMax` long. */
export function parseJsonBytes(bytes: Uint8Array, path: string, sizeBytesMax: number): unknown {
  if (bytes.byteLength > sizeBytesMax) {
    throw new MetaDecodeError(`${path}: ${bytes.byteLength} bytes, over the limit of ${sizeBytesMax}`);
  }
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    throw new MetaDecodeError(`${path}: not valid UTF-8`);
  }
  return parseJsonText(text, path);
}

export function parseJsonText(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MetaDecodeError(`${path}: not JSON (${(error as Error).message})`);
  }
}

/** The fields of an object that has every `required` key, maybe some `optional` ones, and nothing else. */
export function fields(
  value: unknown,
  path: string,
  required: readonly string[],
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MetaDecodeError(`${path}: expected an object`);
  }
  const record = value as Record<string, unknown>;
  for (const key of required) {
    if (!Object.hasOwn(record, key)) throw new MetaDecodeError(`${path}: the field "${key}" is missing`);
  }
  for (const key of Object.keys(record)) {
    if (!required.includes(key) && !optional.includes(key)) {
      throw new MetaDecodeError(`${path}: unknown field ${JSON.stringify(key.slice(0, 64))}`);
    }
  }
  return record;
}

/** One field of an object, read before the object's kind (and so its other fields) is known. */
export function field(value: unknown, path: string, key: string): unknown {
  const record = fields(value, path, [], Object.keys(value ?? {}));
  if (!Object.hasOwn(record, key)) throw new MetaDecodeError(`${path}: the field "${key}" is missing`);
  return record[key];
}

/** A safe integer in min..max. */
export function integer(value: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new MetaDecodeError(`${path}: expected an integer in ${min}..${max}`);
  }
  return value;
}

/** A string of at most `charsMax` UTF-16 code units. */
export function text(value: unknown, path: string, charsMax: number): string {
  if (typeof value !== 'string') throw new MetaDecodeError(`${path}: expected a string`);
  if (value.length > charsMax) throw new MetaDecodeError(`${path}: longer than ${charsMax} characters`);
  return value;
}

export function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new MetaDecodeError(`${path}: expected true or false`);
  return value;
}

/** An array of at most `itemsMax` items. */
export function list(value: unknown, path: string, itemsMax = Number.MAX_SAFE_INTEGER): readonly unknown[] {
  if (!Array.isArray(value)) throw new MetaDecodeError(`${path}: expected an array`);
  if (value.length > itemsMax) throw new MetaDecodeError(`${path}: more than ${itemsMax} items`);
  return value as unknown[];
}

/** One of the given strings. */
export function oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
    throw new MetaDecodeError(`${path}: expected one of ${options.join(', ')}`);
  }
  return value as T;
}
