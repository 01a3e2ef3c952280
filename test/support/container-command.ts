/**
 * Runs a container's command the way its pod would, but with a stand-in
 * `node` first on PATH that prints its arguments instead of starting raftkv:
 * the shell wrapper's arithmetic, quoting and variables are really evaluated.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Container } from './k8s-manifests.js';

export class FakeNode {
  private readonly directory = mkdtempSync(path.join(tmpdir(), 'raftkv-fake-node-'));

  constructor() {
    // NUL-separated, so that arguments with spaces or newlines come back whole.
    const script = path.join(this.directory, 'node');
    writeFileSync(script, '#!/bin/sh\nprintf \'%s\\0\' "$@"\n');
    chmodSync(script, 0o755);
  }

  /** The arguments the container's command passes to `node` (the first is the script it runs). */
  argumentsOf(container: Container, env: Readonly<Record<string, string>>): string[] {
    const [program, ...rest] = [...(container.command ?? []), ...(container.args ?? [])];
    if (program === undefined) throw new Error(`container ${container.name} has no command`);
    const result = spawnSync(program, rest, {
      cwd: this.directory,
      env: { ...env, PATH: `${this.directory}:${process.env.PATH ?? '/usr/bin:/bin'}` },
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      throw new Error(`container ${container.name}: its command exited with ${result.status}: ${result.stderr}`);
    }
    return result.stdout.split('\0').slice(0, -1);
  }

  remove(): void {
    rmSync(this.directory, { recursive: true, force: true });
  }
}
