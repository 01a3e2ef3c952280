/**
 * Summarizes a node --cpu-prof profile (self time, inclusive time, idle and
 * GC shares, busy stretches of the event loop, the top-down call tree):
 *
 *   node --import tsx scripts/profile-summary.ts FILE.cpuprofile [--from-us N --to-us N]
 *
 * --from-us and --to-us keep the samples of a window, in microseconds of the
 * monotonic clock the profile is stamped with (process.hrtime's);
 * `npm run bench:compare -- --profile` passes its put workload's window.
 */
import { parseArgs } from 'node:util';
import { loadProfile, summarizeProfile } from './profile/cpu-profile.js';
import { formatProfileSummary } from './profile/profile-report.js';

const USAGE = 'usage: node --import tsx scripts/profile-summary.ts FILE.cpuprofile [--from-us <n> --to-us <n>]';

function main(): void {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: { 'from-us': { type: 'string' }, 'to-us': { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const [file] = parsed.positionals;
  const from = parsed.values['from-us'];
  const to = parsed.values['to-us'];
  if (file === undefined || parsed.positionals.length > 1 || (from === undefined) !== (to === undefined)) {
    console.error(USAGE);
    process.exit(2);
  }
  const window = from === undefined || to === undefined ? null : { startUs: Number(from), endUs: Number(to) };
  if (window !== null && !(window.startUs < window.endUs)) {
    console.error(`--from-us ${from} must be a number below --to-us ${to}\n${USAGE}`);
    process.exit(2);
  }
  console.log(formatProfileSummary(summarizeProfile(loadProfile(file), window)));
}

main();
