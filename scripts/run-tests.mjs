#!/usr/bin/env node
// Runs node's built-in test runner (through tsx) on every *.test.ts file found
// under the given directories, because Node 20 does not expand globs itself.
//
//   node scripts/run-tests.mjs [DIR...] [-- NODE_FLAGS...]
//   node scripts/run-tests.mjs test/unit -- --test-name-pattern=election
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const roots = dashes === -1 ? argv : argv.slice(0, dashes);
const passThrough = dashes === -1 ? [] : argv.slice(dashes + 1);
if (roots.length === 0) roots.push('test/unit');

function collect(entry, out) {
  const stat = statSync(entry);
  if (stat.isDirectory()) {
    for (const name of readdirSync(entry)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      collect(path.join(entry, name), out);
    }
  } else if (stat.isFile() && entry.endsWith('.test.ts')) {
    out.push(entry);
  }
}

const files = [];
for (const root of roots) {
  if (!existsSync(root)) {
    console.error(`run-tests: no such file or directory: ${root}`);
    process.exit(1);
  }
  collect(root, files);
}
files.sort();

if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files found under ${roots.join(', ')}`);
  process.exit(1);
}

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    // Two files at a time unless the caller says otherwise (the end-to-end files run one at a time).
    ...(passThrough.some((flag) => flag.startsWith('--test-concurrency')) ? [] : ['--test-concurrency=2']),
    '--test-reporter=spec',
    ...passThrough,
    ...files,
  ],
  { stdio: 'inherit' },
);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (error) => {
  console.error(`run-tests: could not start node: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    console.error(`run-tests: test runner killed by ${signal}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
