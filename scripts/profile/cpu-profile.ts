/**
 * Where a node --cpu-prof profile's time went: self time per function, time
 * inclusive of callees per function and per source area, the share spent
 * idle, in GC and in V8 itself, and the stretches the event loop was busy
 * without a break (which is how long a request arriving then waited).
 */
import { readFileSync } from 'node:fs';

/** The parts of V8's .cpuprofile format this reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  /** Microseconds on the monotonic clock (process.hrtime's). */
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Weighted {
  readonly name: string;
  readonly ms: number;
}

export interface TreeLine {
  readonly depth: number;
  readonly name: string;
  readonly ms: number;
}

export interface ProfileSummary {
  readonly windowMs: number;
  readonly samples: number;
  readonly idleMs: number;
  readonly gcMs: number;
  /** V8 and native work outside any JavaScript function: parsing, compiling, the runtime. */
  readonly programMs: number;
  readonly selfByFunction: readonly Weighted[];
  readonly inclusiveByFunction: readonly Weighted[];
  readonly selfByArea: readonly Weighted[];
  readonly inclusiveByArea: readonly Weighted[];
  /** Functions under the root with their inclusive time, depth first, the small ones left out. */
  readonly topDown: readonly TreeLine[];
  /** Lengths of the busy stretches (no idle sample between), longest first. */
  readonly busyStretchesMs: readonly number[];
}

const IDLE = '(idle)';
const GC = '(garbage collector)';
const PROGRAM = '(program)';
const ROOT = '(root)';
/** Top-down lines below this share of the busy time are left out. */
const TREE_SHARE_MIN = 0.015;
const TREE_DEPTH_MAX = 14;

export function loadProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/** "src/raft/raft.ts", "node_modules/classic-level", "node:internal/..." or "native": where a frame's code lives. */
export function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : 'native (V8 builtins, C++)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules !== null) return `node_modules/${modules[1]}`;
  const source = /\/(src|scripts|test)\/([^/]+)\//.exec(url);
  if (source !== null) return `${source[1]}/${source[2]}`;
  if (url.startsWith('node:')) return 'node: (core library)';
  return url;
}

function shortUrl(url: string): string {
  const at = url.search(/\/(src|node_modules|scripts|test)\//);
  if (at >= 0) return url.slice(at + 1);
  return url.replace(/^file:\/\//, '');
}

function frameName(frame: CpuProfile['nodes'][number]['callFrame']): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  // tsx's transpiled sources put many functions on line 0: a line there says nothing.
  return frame.lineNumber <= 0
    ? `${name} ${shortUrl(frame.url)}`
    : `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function add<K>(map: Map<K, number>, key: K, ms: number): void {
  map.set(key, (map.get(key) ?? 0) + ms);
}

function sorted(map: Map<string, number>): Weighted[] {
  return [...map].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
}

/**
 * Summarizes the samples taken within `window` (microseconds of the monotonic
 * clock; the whole profile when null). Each sample stands for the time until
 * the next one, as Chrome's DevTools count it.
 */
export function summarizeProfile(
  profile: CpuProfile,
  window: { readonly startUs: number; readonly endUs: number } | null,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const nodeSelfMs = new Map<number, number>();
  const selfByFunction = new Map<string, number>();
  const inclusiveByFunction = new Map<string, number>();
  const selfByArea = new Map<string, number>();
  const inclusiveByArea = new Map<string, number>();
  const busyStretchesMs: number[] = [];
  let windowMs = 0;
  let samples = 0;
  let busyMs = 0;
  let timeUs = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    timeUs += profile.timeDeltas[i] ?? 0;
    if (window !== null && (timeUs < window.startUs || timeUs > window.endUs)) continue;
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const leaf = byId.get(profile.samples[i]!)!;
    samples += 1;
    windowMs += ms;
    add(nodeSelfMs, leaf.id, ms);
    add(selfByFunction, frameName(leaf.callFrame), ms);
    add(selfByArea, areaOf(leaf.callFrame.url, leaf.callFrame.functionName), ms);
    if (leaf.callFrame.functionName === IDLE) {
      if (busyMs > 0) busyStretchesMs.push(busyMs);
      busyMs = 0;
      continue;
    }
    busyMs += ms;
    // A recursive function counts once per sample, however deep it recurs.
    const functions = new Set<string>();
    const areas = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === ROOT) continue;
      functions.add(frameName(frame));
      areas.add(areaOf(frame.url, frame.functionName));
    }
    for (const name of functions) add(inclusiveByFunction, name, ms);
    for (const area of areas) add(inclusiveByArea, area, ms);
  }
  if (busyMs > 0) busyStretchesMs.push(busyMs);
  const idleMs = selfByFunction.get(IDLE) ?? 0;
  return {
    windowMs,
    samples,
    idleMs,
    gcMs: selfByFunction.get(GC) ?? 0,
    programMs: selfByFunction.get(PROGRAM) ?? 0,
    selfByFunction: sorted(selfByFunction),
    inclusiveByFunction: sorted(inclusiveByFunction),
    selfByArea: sorted(selfByArea),
    inclusiveByArea: sorted(inclusiveByArea),
    topDown: topDown(profile, nodeSelfMs, (windowMs - idleMs) * TREE_SHARE_MIN),
    busyStretchesMs: busyStretchesMs.sort((a, b) => b - a),
  };
}

/** The call tree from the root, children by inclusive time, down to lines of at least `minMs`. */
function topDown(profile: CpuProfile, nodeSelfMs: Map<number, number>, minMs: number): TreeLine[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const inclusive = new Map<number, number>();
  const total = (id: number): number => {
    const known = inclusive.get(id);
    if (known !== undefined) return known;
    let ms = nodeSelfMs.get(id) ?? 0;
    for (const child of byId.get(id)?.children ?? []) ms += total(child);
    inclusive.set(id, ms);
    return ms;
  };
  const root = profile.nodes.find((node) => node.callFrame.functionName === ROOT) ?? profile.nodes[0]!;
  total(root.id);
  const lines: TreeLine[] = [];
  const visit = (id: number, depth: number): void => {
    const children = [...(byId.get(id)?.children ?? [])]
      .filter((child) => byId.get(child)!.callFrame.functionName !== IDLE && total(child) >= minMs)
      .sort((a, b) => total(b) - total(a));
    for (const child of children) {
      lines.push({ depth, name: frameName(byId.get(child)!.callFrame), ms: total(child) });
      if (depth < TREE_DEPTH_MAX) visit(child, depth + 1);
    }
  };
  visit(root.id, 0);
  return lines;
}
