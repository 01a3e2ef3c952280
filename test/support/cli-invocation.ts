/**
 * Reads a `raftkv ...` argument list against the real commander program, as
 * commander would: which subcommand it runs, the value of each long flag, and
 * the flags that subcommand does not have.
 */
import type { CommandUnknownOpts, Option } from '@commander-js/extra-typings';

export interface Invocation {
  /** The subcommand names, like ['admin', 'join']. */
  readonly path: readonly string[];
  /** Long flag -> its value (the last one given), or true for a flag without a value. */
  readonly flags: ReadonlyMap<string, string | true>;
  readonly positionals: readonly string[];
  /** Flags that none of the commands on the path has, like 'meta --http'. */
  readonly unknownFlags: readonly string[];
  /** Required flags of the commands on the path that the argument list leaves out. */
  readonly missingFlags: readonly string[];
}

export function readInvocation(program: CommandUnknownOpts, argv: readonly string[]): Invocation {
  const chain: CommandUnknownOpts[] = [program];
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  const unknownFlags: string[] = [];
  const pathNames = (): string =>
    chain
      .slice(1)
      .map((command) => command.name())
      .join(' ');
  for (let index = 0; index < argv.length; index += 1) {
    const token = argv[index]!;
    if (token.startsWith('-')) {
      const equals = token.indexOf('=');
      const name = equals === -1 ? token : token.slice(0, equals);
      const option = findOption(chain, name);
      const next = argv[index + 1];
      // An unknown flag is assumed to take a value when one follows, so that the value is not read as a subcommand.
      const takesValue =
        option === undefined ? next !== undefined && !next.startsWith('-') : option.required || option.optional;
      if (option === undefined) unknownFlags.push(`${pathNames()} ${name}`);
      if (equals !== -1) flags.set(name, token.slice(equals + 1));
      else if (takesValue && next !== undefined) flags.set(name, argv[++index]!);
      else flags.set(name, true);
      continue;
    }
    const subcommand = chain.at(-1)!.commands.find((command) => command.name() === token);
    if (subcommand !== undefined && positionals.length === 0) chain.push(subcommand);
    else positionals.push(token);
  }
  const missingFlags = chain.flatMap((command) =>
    command.options
      .filter((option) => option.mandatory && option.defaultValue === undefined && !flags.has(option.long ?? ''))
      .map((option) => `${pathNames()} ${option.long}`),
  );
  return { path: chain.slice(1).map((command) => command.name()), flags, positionals, unknownFlags, missingFlags };
}

/** The innermost command's option wins, as in commander, where a subcommand's flags shadow its parent's. */
function findOption(chain: readonly CommandUnknownOpts[], long: string): Option | undefined {
  for (const command of [...chain].reverse()) {
    const option = command.options.find((candidate) => candidate.long === long);
    if (option !== undefined) return option;
  }
  return undefined;
}
