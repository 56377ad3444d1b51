import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirLock, LOCK_FILE } from '../src/metrics/dir-lock.ts';
import { UserError } from '../src/util/user-error.ts';
import { tmp } from './helpers/cli.ts';

/** A pid that ran on this host and is gone. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

describe('DirLock', () => {
  it('takes over a stale lock (owner gone) and leaves no side files', () => {
    const t = tmp('dtemu-lock-');
    writeFileSync(join(t, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: hostname(), command: 'run', since: 'then' }));
    const lock = DirLock.acquire(t, 'run', `--out ${t}`);
    expect(JSON.parse(readFileSync(join(t, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    expect(readdirSync(t)).toEqual([LOCK_FILE]);
    lock.release();
    expect(existsSync(join(t, LOCK_FILE))).toBe(false);
  });

  it('refuses a live owner with a UserError naming it, and keeps its lock', () => {
    const t = tmp('dtemu-lock-');
    const live = JSON.stringify({ pid: process.pid, host: hostname(), command: 'sweep', since: 'now' });
    writeFileSync(join(t, LOCK_FILE), live);
    expect(() => DirLock.acquire(t, 'run', `--out ${t}`)).toThrow(UserError);
    expect(() => DirLock.acquire(t, 'run', `--out ${t}`)).toThrow(/in use by dtemu sweep \(pid \d+ on /);
    expect(readFileSync(join(t, LOCK_FILE), 'utf8')).toBe(live);
    expect(readdirSync(t)).toEqual([LOCK_FILE]);
  });
});
