// Compiles the engine to dist/ and writes dist/.build-stamp last, listing the sources it was
// built from. bin/dtemu.js runs dist/ only when the stamp is newer than every source file and
// the list still matches; otherwise it runs the sources through tsx. Run by `npm run build` and
// by `prepare` at npm install / npm ci (with --if-possible: a failed compile never fails the
// install). Without the TypeScript compiler (`npm ci --omit=dev`) it says so and leaves the CLI
// on the tsx loader, which is slower to start but always current.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listSources } from '../bin/sources.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);

let tsc;
try {
  tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  process.stderr.write('dtemu build: TypeScript is not installed (dev dependencies omitted); the CLI will run the sources through tsx\n');
  process.exit(0);
}
// Sources listed before compiling: a file edited during the build makes the stamp stale.
const sources = listSources(root);
rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  rmSync(dist, { recursive: true, force: true });
  process.stderr.write('dtemu build: tsc failed; the CLI will run the sources through tsx\n');
  // At install time (prepare) a type error must not fail `npm install`: the CLI still works.
  process.exit(process.argv.includes('--if-possible') ? 0 : (r.status ?? 1));
}
if (!existsSync(dist)) mkdirSync(dist);
writeFileSync(join(dist, '.build-stamp'), JSON.stringify({ sources: sources.map((s) => s.rel) }) + '\n');
