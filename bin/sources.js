// The files the compiled dist/ tree is built from (shared by bin/dtemu.js and scripts/build.mjs).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const SOURCE_DIRS = ['src', 'comm', 'topologies', 'optimizers'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json'];

/** Every .ts file under the engine's directories plus the compiler configs, with mtimes (ms). */
export function listSources(root) {
  const out = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) out.push({ rel: relative(root, p), mtimeMs: statSync(p).mtimeMs });
    }
  };
  for (const d of SOURCE_DIRS) walk(join(root, d));
  for (const f of CONFIG_FILES) out.push({ rel: f, mtimeMs: statSync(join(root, f)).mtimeMs });
  out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return out;
}
