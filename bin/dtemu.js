#!/usr/bin/env node
// Runs the compiled engine (dist/, built by `npm run build` / `prepare`) when it is current, and
// the TypeScript sources through tsx's loader otherwise, so nobody can run stale code: dist/ is
// current when its stamp is newer than every source file and lists exactly today's sources.
// DTEMU_FROM_SOURCE=1 forces the sources.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listSources } from './sources.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function distIsCurrent() {
  if (process.env.DTEMU_FROM_SOURCE === '1') return false;
  const stampFile = join(root, 'dist', '.build-stamp');
  let stampMs;
  let built;
  try {
    stampMs = statSync(stampFile).mtimeMs;
    built = JSON.parse(readFileSync(stampFile, 'utf8')).sources;
  } catch {
    return false;
  }
  const sources = listSources(root);
  if (!Array.isArray(built) || built.length !== sources.length) return false;
  for (let i = 0; i < sources.length; i++) {
    if (built[i] !== sources[i].rel || sources[i].mtimeMs > stampMs) return false;
  }
  return true;
}

if (distIsCurrent()) {
  await import('../dist/src/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
