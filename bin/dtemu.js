#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader: one code path for the CLI, the
// spawned worker processes and the tests, and no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
