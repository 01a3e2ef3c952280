/** Flag parsers that turn bad input into one clear line instead of a stack trace. */
import { InvalidArgumentError } from '@commander-js/extra-typings';

export function integerOption(flag: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`${flag} takes a whole number ${range}, got "${value}"`);
    }
    return parsed;
  };
}
