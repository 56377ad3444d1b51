import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root directory (the one holding package.json), found by walking up from this
 * module, so the same code works from the TypeScript sources and from the compiled dist/ tree.
 */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('dtemu: cannot find the package root (no package.json above the code)');
    dir = up;
  }
  return dir;
}

export const PACKAGE_ROOT = findRoot();

/** The CLI entry that spawned runs and worker processes execute. */
export const DTEMU_BIN = join(PACKAGE_ROOT, 'bin', 'dtemu.js');
