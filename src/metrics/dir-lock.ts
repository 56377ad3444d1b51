import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../util/user-error.ts';

/** Who holds an output directory (the lock file's content). */
export interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export const LOCK_FILE = '.dtemu.lock';

/**
 * True if a process with this pid runs on this host. EPERM means it exists (another user's);
 * a lock from another host cannot be checked and counts as alive (refusing is the safe side).
 */
export function ownerAlive(o: { pid: number; host: string }): boolean {
  if (o.host !== hostname()) return true;
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof v.pid === 'number' && typeof v.host === 'string') return { pid: v.pid, host: v.host, command: String(v.command ?? 'dtemu'), since: String(v.since ?? '?') };
  } catch {
    /* unreadable or half-written: treated as stale below only if it stays so */
  }
  return null;
}

/** The live dtemu holding `dir`, if any (a stale or absent lock: null). */
export function liveHolder(dir: string): LockOwner | null {
  const o = readOwner(join(dir, LOCK_FILE));
  return o && ownerAlive(o) ? o : null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

const held = new Set<DirLock>();
let exitHook = false;

/**
 * An exclusive lock on an output directory for one `dtemu run` or `dtemu sweep`: a lock file with
 * the owner's pid, host, command and start time, created atomically (written under a private
 * name, then hard-linked into place, which fails if a lock exists). A lock whose owner is gone
 * (same host, pid not running) is stale and taken over; a live owner's lock refuses with exit 2.
 */
export class DirLock {
  private released = false;

  private constructor(
    readonly dir: string,
    private readonly path: string,
    private readonly content: string,
  ) {}

  /** `flag` names where the directory came from, for the message (e.g. "--out runs/x"). */
  static acquire(dir: string, command: string, flag: string): DirLock {
    const path = join(dir, LOCK_FILE);
    const owner: LockOwner = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
    const content = JSON.stringify(owner) + '\n';
    const mine = join(dir, `${LOCK_FILE}.${process.pid}`);
    try {
      writeFileSync(mine, content);
    } catch (e) {
      rmSync(mine, { force: true }); // a partial one (disk full)
      throw new UserError(`${flag}: cannot write in ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(mine, path);
          const lock = new DirLock(dir, path, content);
          held.add(lock);
          if (!exitHook) {
            exitHook = true;
            process.on('exit', () => {
              for (const l of held) l.release();
            });
          }
          return lock;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`${flag}: cannot lock ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
        const seen = readText(path);
        const other = readOwner(path);
        if (other && ownerAlive(other)) {
          throw new UserError(
            `${flag}: ${dir} is in use by dtemu ${other.command} (pid ${other.pid} on ${other.host}, since ${other.since}); wait for it to finish or choose another directory`,
          );
        }
        // Stale (its owner is gone) or unreadable: move it aside atomically; only one taker wins.
        const aside = `${path}.stale-${process.pid}`;
        try {
          renameSync(path, aside);
        } catch {
          continue; // someone else took it over first: look again
        }
        // Another taker may have replaced the stale lock with its own between our read and the
        // rename: what we moved is then that live lock, and it goes back (link: never over a third).
        if (readText(aside) !== seen) {
          try {
            linkSync(aside, path);
          } catch {
            /* a third process holds it now: look again */
          }
        }
        rmSync(aside, { force: true });
      }
      throw new UserError(`${flag}: could not lock ${dir} (another dtemu keeps taking it)`);
    } finally {
      rmSync(mine, { force: true });
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    try {
      // Only remove it if it is still ours.
      if (readFileSync(this.path, 'utf8') === this.content) rmSync(this.path, { force: true });
    } catch {
      /* gone already */
    }
  }
}
