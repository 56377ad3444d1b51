import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.ts';

describe('docs', () => {
  it('docs/config-reference.md is generated from the current schema', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'config-reference.ts')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(readFileSync(join(ROOT, 'docs', 'config-reference.md'), 'utf8')).toBe(r.stdout);
  });

  it('every shipped experiment validates', () => {
    for (const f of ['experiments/quickstart.yaml', 'experiments/stragglers-star.yaml']) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'dtemu.js'), 'validate', f], { cwd: ROOT, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });
});
