import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statusCommand } from '../src/cli/status.ts';
import { tmp } from './helpers/cli.ts';

describe('dtemu status', () => {
  it('a sweep directory with a dangling symlink: the runs are listed, the link is skipped (no internal error)', () => {
    const t = tmp('dtemu-status-');
    mkdirSync(join(t, '001_a'));
    writeFileSync(join(t, '001_a', 'manifest.json'), JSON.stringify({ status: 'completed' }));
    symlinkSync(join(t, 'gone'), join(t, '002_b'));
    const out: string[] = [];
    expect(statusCommand([t], (l) => out.push(l))).toBe(0);
    expect(out).toEqual([`${t}: sweep of 1 run(s)`, `${join(t, '001_a')}: completed`]);
  });
});
