/**
 * Structured logs, quiet by default: one JSON object per line on stderr
 * (pino), at 'warn' unless asked for more. Every layer that logs takes a
 * Logger, so tests pass the silent one and a process passes a real one.
 */
import { pino } from 'pino';

/** The part of pino's logger that raftkv uses: an object of fields first, then a message. */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(bindings: object): Logger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

export function createLogger(level: LogLevel, bindings: object = {}): Logger {
  return pino({ level, base: bindings }, pino.destination({ fd: 2, sync: false }));
}

export const silentLogger: Logger = pino({ level: 'silent' });
