/**
 * The run behind `raftkv sim`: a five-member group under a seeded storm of
 * faults (partitions, crashes, restarts, an unreliable network), with clients
 * writing all along. It narrates what Raft does as a timeline and ends with a
 * safety verdict, so that a reader can watch the algorithm work and replay
 * any run by its seed.
 */
import type { NodeId, SoftState } from '../raft/index.js';
import { SafetyViolation } from './invariants.js';
import type { SimEvent } from './cluster.js';
import { SimCluster } from './cluster.js';

export interface DemoOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly durationMs: number;
  readonly snapshotEveryEntries: number;
  /** Print every commit instead of a summary line per second. */
  readonly verbose: boolean;
}

export interface DemoVerdict {
  readonly safe: boolean;
  readonly message: string;
  readonly terms: number;
  readonly committed: number;
  readonly faults: number;
  readonly snapshots: number;
}

const FAULT_EVERY_MS = 1500;

export function runDemo(options: DemoOptions, print: (line: string) => void): DemoVerdict {
  const cluster = new SimCluster({
    seed: options.seed,
    nodes: options.nodes,
    snapshotEveryEntries: options.snapshotEveryEntries,
  });
  const counts = { faults: 0, snapshots: 0, maxTerm: 0 };
  let lastCommitPrinted = { index: 0, atMs: -Infinity };
  cluster.onEvent((event, timeMs) => {
    const line = describe(event, options.verbose, timeMs, lastCommitPrinted);
    if (event.kind === 'fault') counts.faults++;
    if (event.kind === 'snapshot') counts.snapshots++;
    if (event.kind === 'role') counts.maxTerm = Math.max(counts.maxTerm, event.state.term);
    if (event.kind === 'commit' && line !== null) lastCommitPrinted = { index: event.index, atMs: timeMs };
    if (line !== null) print(`${formatTime(timeMs)}  ${line}`);
  });

  print(`raftkv sim: ${options.nodes} members, seed ${options.seed}, ${options.durationMs / 1000} s of simulated time`);
  const random = cluster.random.fork();
  let written = 0;
  let writing = true;
  const writeLoop = (): void => {
    if (!writing) return;
    for (const id of cluster.ids) if (cluster.propose(id, `set x${written % 50} ${written}`) !== null) written++;
    cluster.scheduler.after(random.intBetween(20, 80), writeLoop);
  };
  writeLoop();

  let message: string;
  let safe = true;
  try {
    for (let elapsed = 0; elapsed < options.durationMs; elapsed += FAULT_EVERY_MS) {
      cluster.runFor(FAULT_EVERY_MS);
      injectFault(cluster, random);
    }
    // Stop the storm and the clients, then every member must converge on one log.
    writing = false;
    cluster.heal();
    cluster.setReliable(true);
    for (const id of cluster.ids) if (!cluster.node(id).alive) cluster.restart(id);
    const last = cluster.one('final', cluster.ids.length, true);
    const applied = (): number[] => cluster.ids.map((id) => cluster.node(id).machine.lastApplied);
    const converged = cluster.runUntil(() => new Set(applied()).size === 1, 10_000);
    if (!converged) throw new Error(`members did not converge: applied ${applied().join('/')}`);
    message =
      `SAFE: at most one leader in each of ${counts.maxTerm} terms; all ${options.nodes} members applied the same ` +
      `${applied()[0]} entries (${last} at the final write) after ${counts.faults} faults`;
  } catch (error) {
    safe = false;
    const reason = error instanceof SafetyViolation ? error.message : `stuck: ${(error as Error).message}`;
    message = `UNSAFE: ${reason} (replay with --seed ${options.seed})`;
  }
  print(message);
  return {
    safe,
    message,
    terms: counts.maxTerm,
    committed: cluster.safety.committedMax,
    faults: counts.faults,
    snapshots: counts.snapshots,
  };
}

function injectFault(cluster: SimCluster, random: SimCluster['random']): void {
  const ids = cluster.ids;
  const minority = Math.floor((ids.length - 1) / 2);
  switch (random.int(6)) {
    case 0: {
      const shuffled = random.shuffle([...ids]);
      const cut = 1 + random.int(ids.length - 1);
      cluster.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      break;
    }
    case 1: {
      const alive = ids.filter((id) => cluster.node(id).alive);
      const dead = ids.length - alive.length;
      if (dead < minority) cluster.crash(random.pick(alive));
      else cluster.restart(random.pick(ids.filter((id) => !cluster.node(id).alive)));
      break;
    }
    case 2: {
      const leader = ids.find((id) => cluster.node(id).core?.role === 'leader');
      if (leader !== undefined) cluster.partition([[leader], ids.filter((id) => id !== leader)]);
      break;
    }
    case 3:
      cluster.setReliable(!cluster.network.reliable);
      break;
    default:
      cluster.heal();
      for (const id of ids) if (!cluster.node(id).alive) cluster.restart(id);
  }
}

function describe(event: SimEvent, verbose: boolean, timeMs: number, lastCommit: { atMs: number }): string | null {
  switch (event.kind) {
    case 'role':
      return describeRole(event.node, event.state, event.previous, verbose);
    case 'commit':
      if (!verbose && timeMs - lastCommit.atMs < 1000) return null;
      return `n${event.node}  commits up to index ${event.index} (term ${event.term})`;
    case 'snapshot':
      if (event.installed)
        return `n${event.node}  was too far behind: installs the leader's snapshot up to index ${event.index}`;
      return verbose ? `n${event.node}  compacts its log into a snapshot at index ${event.index}` : null;
    case 'fault':
      return `--  ${event.description}`;
    case 'repair':
      return `++  ${event.description}`;
  }
}

function describeRole(node: NodeId, state: SoftState, previous: SoftState | null, verbose: boolean): string | null {
  const who = `n${node}`;
  switch (state.role) {
    case 'leader':
      return `${who}  ** elected leader of term ${state.term}`;
    case 'candidate':
      return `${who}  campaigns in term ${state.term}`;
    case 'preCandidate':
      return verbose ? `${who}  asks for pre-votes for term ${state.term + 1}` : null;
    case 'follower':
      if (previous?.role === 'leader') return `${who}  steps down in term ${state.term}`;
      if (!verbose || state.leader === null) return null;
      return `${who}  follows n${state.leader} in term ${state.term}`;
  }
}

function formatTime(timeMs: number): string {
  return `${(timeMs / 1000).toFixed(3).padStart(8)}s`;
}
