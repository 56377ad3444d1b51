import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { ownerAlive } from './dir-lock.ts';

/** What a run directory's manifest says, checked against the living: `running` needs a live coordinator. */
export interface RunState {
  status: 'running' | 'completed' | 'failed' | 'interrupted' | 'dead' | 'unknown';
  /** The reason (failed, interrupted, dead) or the manifest's problem (unknown). */
  detail: string;
  name?: string;
  pid?: number;
  host?: string;
  startedAt?: string;
  endedAt?: string | null;
}

type ManifestLike = { status?: unknown; error?: unknown; pid?: unknown; host?: unknown; name?: unknown; startedAt?: unknown; endedAt?: unknown };

export function readRunState(dir: string): RunState {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) return { status: 'unknown', detail: 'no manifest.json (not a run directory, or the run never started)' };
  let m: ManifestLike;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as ManifestLike;
  } catch (e) {
    return { status: 'unknown', detail: `manifest.json is not valid JSON (${(e as Error).message.slice(0, 80)})` };
  }
  if (m === null || typeof m !== 'object') return { status: 'unknown', detail: 'manifest.json is not an object' };
  const base = {
    ...(typeof m.name === 'string' ? { name: m.name } : {}),
    ...(typeof m.pid === 'number' ? { pid: m.pid } : {}),
    ...(typeof m.host === 'string' ? { host: m.host } : {}),
    ...(typeof m.startedAt === 'string' ? { startedAt: m.startedAt } : {}),
    endedAt: typeof m.endedAt === 'string' ? m.endedAt : null,
  };
  const error = typeof m.error === 'string' ? m.error : '';
  switch (m.status) {
    case 'completed':
      return { ...base, status: 'completed', detail: '' };
    case 'failed':
    case 'interrupted':
      return { ...base, status: m.status, detail: error };
    case 'running':
      if (typeof m.pid === 'number' && typeof m.host === 'string' && !ownerAlive({ pid: m.pid, host: m.host })) {
        return { ...base, status: 'dead', detail: `its coordinator (pid ${m.pid} on ${m.host}) is gone: it was killed or crashed before the run finished` };
      }
      return { ...base, status: 'running', detail: typeof m.pid === 'number' ? `coordinator pid ${m.pid} on ${String(m.host)}` : '' };
    default:
      return { ...base, status: 'unknown', detail: `manifest.json has status ${JSON.stringify(m.status)}` };
  }
}

/** Record a dead coordinator in the manifest (status failed, with the reason), atomically. */
export function markDead(dir: string, state: RunState): void {
  const file = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  m['status'] = 'failed';
  m['error'] = `the run ${state.detail}`;
  m['endedAt'] = m['endedAt'] ?? null;
  writeFileAtomic(file, JSON.stringify(m, null, 2) + '\n');
}
