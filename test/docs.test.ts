import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { withGeneratedFaults } from '../src/runtime/fault-program.ts';
import { resolvePlugins } from '../src/config/plugins.ts';
import { ROOT } from './helpers/cli.ts';

describe('docs', () => {
  it('docs/config-reference.md is generated from the current schema', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'config-reference.ts')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(readFileSync(join(ROOT, 'docs', 'config-reference.md'), 'utf8')).toBe(r.stdout);
  });

  it('every shipped experiment validates', async () => {
    // Every folder under experiments/, so a new gallery folder cannot be forgotten here.
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${dir}/${e.name}`);
        else if (e.name.endsWith('.yaml')) files.push(`${dir}/${e.name}`);
      }
    };
    walk('experiments');
    files.sort((a, b) => (a === 'experiments/quickstart.yaml' ? -1 : b === 'experiments/quickstart.yaml' ? 1 : a.localeCompare(b)));
    expect(files.length).toBeGreaterThanOrEqual(20);
    // What `dtemu validate` does, in this process (a process per file would cost ~2 s each).
    for (const f of files) {
      const lc = await withGeneratedFaults(await resolvePlugins(loadConfig(join(ROOT, f))));
      expect(lc.config.train.steps).toBeGreaterThan(0);
    }
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'dtemu.js'), 'validate', files[0]!], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/: ok \(4 workers, allreduce-sgd, mlp on fashion-mnist\)/);
    expect(r.status).toBe(0);
  });
});
