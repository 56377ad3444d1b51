import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE, ownerAlive } from '../metrics/dir-lock.ts';
import { markDead, readRunState, type RunState } from '../metrics/run-state.ts';
import { UserError } from '../util/user-error.ts';

function describe(dir: string, st: RunState): string {
  const when = st.endedAt ? `, ended ${st.endedAt}` : st.startedAt ? `, started ${st.startedAt}` : '';
  return `${dir}: ${st.status}${st.detail ? ` (${st.detail})` : ''}${when}`;
}

function isRunDir(dir: string): boolean {
  return existsSync(join(dir, 'manifest.json'));
}

/** The lock's owner if a live dtemu holds the directory (a sweep in progress). */
function liveOwner(dir: string): string | null {
  try {
    const o = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number; host: string; command: string };
    return ownerAlive(o) ? `dtemu ${o.command} (pid ${o.pid} on ${o.host})` : null;
  } catch {
    return null;
  }
}

/**
 * `dtemu status DIR...`: one line per run directory (a sweep directory: one per point). A run
 * whose manifest says `running` but whose coordinator is gone (killed, crashed) is reported as
 * dead and its manifest is corrected to `failed` with that reason. Returns the exit code: 0 when
 * every run completed or is running, 1 when one failed, was interrupted or is dead.
 */
export function statusCommand(dirs: string[], print: (line: string) => void): number {
  let code = 0;
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: expected a run or sweep directory, found ${existsSync(dir) ? 'a file' : 'nothing'}`);
    const runs = isRunDir(dir)
      ? [dir]
      : readdirSync(dir)
          .sort()
          .map((n) => join(dir, n))
          // A dangling symlink or an unreadable entry is not a run (statSync would throw).
          .filter((p) => statSync(p, { throwIfNoEntry: false })?.isDirectory() === true && isRunDir(p));
    if (runs.length === 0) throw new UserError(`${dir}: not a run or sweep directory (no manifest.json in it or its subdirectories)`);
    if (!isRunDir(dir)) {
      const owner = liveOwner(dir);
      print(`${dir}: sweep of ${runs.length} run(s)${owner ? `, in progress by ${owner}` : ''}`);
    }
    for (const r of runs) {
      const st = readRunState(r);
      if (st.status === 'dead') {
        try {
          markDead(r, st);
        } catch {
          /* read-only: still reported */
        }
      }
      if (st.status !== 'completed' && st.status !== 'running') code = 1;
      print(describe(r, st));
    }
  }
  return code;
}
