/**
 * The workloads `raftkv bench` runs: which share of the operations are reads
 * (the rest are puts) and how keys are chosen. The YCSB ones follow the YCSB
 * core workloads A, B and C (an update there is a put of an existing key).
 */

export const WORKLOAD_NAMES = ['put', 'get', 'mixed', 'ycsb-a', 'ycsb-b', 'ycsb-c'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export type KeyChoice = 'uniform' | 'zipfian';

export interface WorkloadSpec {
  readonly name: WorkloadName;
  /** Share of operations that are linearizable gets; the rest are puts. */
  readonly readFraction: number;
  readonly keyChoice: KeyChoice;
  /** Reads expect every key to exist: the keys are written first (the load phase). */
  readonly needsLoad: boolean;
  readonly description: string;
}

export const WORKLOADS: Readonly<Record<WorkloadName, WorkloadSpec>> = {
  put: { name: 'put', readFraction: 0, keyChoice: 'uniform', needsLoad: false, description: 'puts, uniform keys' },
  get: { name: 'get', readFraction: 1, keyChoice: 'uniform', needsLoad: true, description: 'gets, uniform keys' },
  mixed: {
    name: 'mixed',
    readFraction: 0.5,
    keyChoice: 'uniform',
    needsLoad: true,
    description: '50 % gets, 50 % puts, uniform keys',
  },
  'ycsb-a': {
    name: 'ycsb-a',
    readFraction: 0.5,
    keyChoice: 'zipfian',
    needsLoad: true,
    description: 'YCSB A: 50 % reads, 50 % updates, zipfian keys',
  },
  'ycsb-b': {
    name: 'ycsb-b',
    readFraction: 0.95,
    keyChoice: 'zipfian',
    needsLoad: true,
    description: 'YCSB B: 95 % reads, 5 % updates, zipfian keys',
  },
  'ycsb-c': {
    name: 'ycsb-c',
    readFraction: 1,
    keyChoice: 'zipfian',
    needsLoad: true,
    description: 'YCSB C: reads only, zipfian keys',
  },
};

function isWorkloadName(text: string): text is WorkloadName {
  return (WORKLOAD_NAMES as readonly string[]).includes(text);
}

/**
 * The workloads named by `--workload` values, each a name or a comma list, in
 * the order given, each once. Throws an Error whose message is for the user.
 */
export function parseWorkloadList(texts: readonly string[]): WorkloadName[] {
  const names: WorkloadName[] = [];
  for (const part of texts.flatMap((text) => text.split(','))) {
    const name = part.trim().toLowerCase();
    if (name === '') continue;
    if (!isWorkloadName(name)) {
      throw new Error(`there is no workload "${part.trim()}"; choose from ${WORKLOAD_NAMES.join(', ')}`);
    }
    if (!names.includes(name)) names.push(name);
  }
  if (names.length === 0) throw new Error(`no workload named; choose from ${WORKLOAD_NAMES.join(', ')}`);
  return names;
}
