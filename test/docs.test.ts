import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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
    const files = ['experiments/quickstart.yaml', 'experiments/stragglers-star.yaml'];
    for (const dir of ['experiments/compression', 'experiments/faults', 'experiments/gradient-coding']) {
      for (const f of readdirSync(join(ROOT, dir))) if (f.endsWith('.yaml')) files.push(`${dir}/${f}`);
    }
    expect(files.length).toBeGreaterThanOrEqual(10);
    for (const f of files) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'dtemu.js'), 'validate', f], { cwd: ROOT, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });
});
