/**
 * A config as bytes, wherever the shard layer stores or carries one (a
 * config command, the current config in the engine, a snapshot record): its
 * canonical JSON text, UTF-8, so that every replica writes the same bytes for
 * the same config, read back as strictly as the meta group reads its own.
 */
import type { ShardConfig } from '../meta/config.js';
import { canonicalConfigJson } from '../meta/config.js';
import { parseConfigValue } from '../meta/config-codec.js';
import { REPLY_BYTES_MAX } from '../meta/command-codec.js';
import { MetaDecodeError } from '../meta/errors.js';
import { parseJsonBytes } from '../meta/json-shape.js';
import { ShardDecodeError } from './errors.js';

/** Largest config text: the meta group's reply limit, which its largest config fits. */
export const CONFIG_JSON_BYTES_MAX = REPLY_BYTES_MAX;

const encoder = new TextEncoder();

export function encodeConfigJson(config: ShardConfig): Uint8Array {
  return encoder.encode(canonicalConfigJson(config));
}

/** The frozen config in `bytes`; ShardDecodeError, naming `what`, when they hold none. */
export function decodeConfigJson(bytes: Uint8Array, what: string): ShardConfig {
  try {
    return parseConfigValue(parseJsonBytes(bytes, 'config', CONFIG_JSON_BYTES_MAX), 'config');
  } catch (error) {
    if (error instanceof MetaDecodeError) throw new ShardDecodeError(what, error.problem);
    throw error;
  }
}
