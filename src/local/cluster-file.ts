/**
 * The settings a local cluster was created with, kept in its directory: a
 * node's address is part of the replicated config, so a second run must put
 * every node on the same ports, whatever flags it was given.
 */
import path from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../storage/atomic-file.js';
import type { LayoutOptions } from './layout.js';
import { layoutProblem } from './layout.js';

const FILE_NAME = 'cluster.json';

/** The settings stored in `directory`, or null for a directory that holds no cluster yet. */
export async function readClusterFile(directory: string): Promise<LayoutOptions | null> {
  const file = path.join(directory, FILE_NAME);
  const bytes = await readFileIfExists(file);
  if (bytes === null) return null;
  const settings = parseSettings(bytes.toString('utf8'));
  if (settings === null) {
    throw new Error(`${file} is not a raftkv local cluster file: move it away or choose another --dir`);
  }
  return settings;
}

export async function writeClusterFile(directory: string, settings: LayoutOptions): Promise<void> {
  const { groups, replicas, basePort, host, clusterId } = settings;
  const text = `${JSON.stringify({ groups, replicas, basePort, host, clusterId }, null, 2)}\n`;
  await writeFileAtomic(path.join(directory, FILE_NAME), Buffer.from(text));
}

function parseSettings(text: string): LayoutOptions | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { groups, replicas, basePort, host, clusterId } = value as Record<string, unknown>;
  if (typeof groups !== 'number' || typeof replicas !== 'number' || typeof basePort !== 'number') return null;
  if (typeof host !== 'string' || typeof clusterId !== 'string') return null;
  const settings = { groups, replicas, basePort, host, clusterId };
  return layoutProblem(settings) === null ? settings : null;
}
