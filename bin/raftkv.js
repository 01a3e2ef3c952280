#!/usr/bin/env node
// Runs the TypeScript sources directly: registers tsx's ESM loader, then loads the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
