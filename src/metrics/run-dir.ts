import { accessSync, closeSync, constants, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import type { ExperimentConfig } from '../config/types.ts';
import { RunError, UserError } from '../util/user-error.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { MetricsLine, TimelineEvent } from './aggregator.ts';
import { DirLock, LOCK_FILE } from './dir-lock.ts';
import { readRunState } from './run-state.ts';

/** config.yaml's text: the resolved point, without the sweep block that may have produced it. */
export function resolvedConfigText(config: ExperimentConfig): string {
  const { sweep: _sweep, ...resolved } = config;
  return stringify(resolved);
}

/** A run's name as one directory name: no separators, no leading dots (`../x` stays inside runs/). */
export function dirNameOf(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 100);
}

/**
 * Bytes kept in reserve while a run writes: freed just before the final manifest is written, so
 * a full disk (ENOSPC) still ends with an honest `status: failed` instead of `running`.
 */
const RESERVE_BYTES = 256 * 1024;
const RESERVE_FILE = '.reserve';

const errCode = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

const WHY: Record<string, string> = {
  ENOTDIR: 'a parent of it is a file',
  EEXIST: 'a parent of it is a file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'name too long',
  ENOSPC: 'no space left on the device',
};

/**
 * Create the directory `path` (and its parents) for output, or accept an existing directory.
 * Every way it can be impossible is the user's input: one line naming the flag, exit 2.
 */
export function prepareOutputDir(path: string, flag: string): void {
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) throw new UserError(`${flag}: expected a directory, found a file`);
    return;
  }
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    const code = whyNotCreated(path) ?? errCode(e);
    throw new UserError(`${flag}: cannot create the directory (${WHY[code] ?? code})`);
  }
}

/**
 * The real reason a recursive mkdir failed, found at the nearest existing ancestor (Node reports
 * ENOENT for a read-only file system there): a file in the way, or no write permission.
 */
function whyNotCreated(path: string): string | null {
  let p = dirname(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    if (!statSync(p).isDirectory()) return 'ENOTDIR';
    accessSync(p, constants.W_OK);
    return null;
  } catch (e) {
    return errCode(e);
  }
}

interface JsonlFile {
  name: string;
  fd: number;
  /** Bytes of whole lines written: on a failed write the file is cut back to this. */
  size: number;
}

/**
 * The run directory contract (DESIGN.md): config.yaml, manifest.json, metrics.jsonl,
 * summary.json, plots/. The directory is locked for the run (DirLock). JSONL files are appended
 * one whole line per write; a write that fails (disk full) is cut back to the last whole line,
 * so every line written stays parseable. JSON and YAML files are replaced atomically.
 */
export class RunDir {
  private readonly metrics: JsonlFile;
  private readonly timeline: JsonlFile;
  private reserveKept = false;
  private closed = false;
  /** The first failed write; later appends are skipped (the run is failing). */
  writeError: Error | null = null;
  /** Told once when an append fails (the coordinator fails the run with it). */
  onWriteError: ((e: RunError) => void) | null = null;

  private constructor(
    readonly path: string,
    private readonly lock: DirLock,
  ) {
    try {
      mkdirSync(join(path, 'plots'), { recursive: true });
      this.metrics = { name: 'metrics.jsonl', fd: openSync(join(path, 'metrics.jsonl'), 'wx'), size: 0 };
      this.timeline = { name: 'timeline.jsonl', fd: openSync(join(path, 'timeline.jsonl'), 'wx'), size: 0 };
      const fd = openSync(join(path, RESERVE_FILE), 'w');
      try {
        writeSync(fd, Buffer.alloc(RESERVE_BYTES));
      } finally {
        closeSync(fd);
      }
      this.reserveKept = true;
    } catch (e) {
      lock.release();
      throw new RunError(`${path}: cannot create the run's files (${WHY[errCode(e)] ?? errCode(e)})`);
    }
  }

  /**
   * Create (or take an empty) run directory for `--out`. An existing non-empty directory is
   * never reused: results of an earlier run are not to be overwritten or mixed with this one's.
   * A directory locked by a live dtemu is refused, naming the owner.
   */
  static create(path: string, flag = `--out ${path}`): RunDir {
    prepareOutputDir(path, flag);
    const lock = DirLock.acquire(path, 'run', flag);
    try {
      const entries = readdirSync(path).filter((n) => n !== LOCK_FILE && !n.startsWith(`${LOCK_FILE}.`));
      if (entries.length > 0) {
        const st = readRunState(path);
        const what = st.status === 'unknown' ? '' : ` (it holds a run: ${st.status}${st.detail ? `, ${st.detail}` : ''})`;
        throw new UserError(`${flag}: the directory exists and is not empty${what}; choose a new one`);
      }
    } catch (e) {
      lock.release();
      throw e;
    }
    return new RunDir(path, lock);
  }

  /** runs/<name>-<time>[-k]: claimed atomically (mkdir fails if another run took it). */
  static createFresh(base: string, name: string): RunDir {
    const p = RunDir.claimFreshPath(base, name);
    return new RunDir(p, DirLock.acquire(p, 'run', p));
  }

  private static claimFreshPath(base: string, name: string): string {
    const safe = dirNameOf(name);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
    prepareOutputDir(base, base);
    for (let i = 1; ; i++) {
      const p = join(base, i === 1 ? `${safe}-${stamp}` : `${safe}-${stamp}-${i}`);
      try {
        mkdirSync(p);
        return p;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new UserError(`${p}: cannot create the run directory (${WHY[errCode(e)] ?? errCode(e)})`);
      }
    }
  }

  writeConfig(config: ExperimentConfig): void {
    this.writeFile('config.yaml', resolvedConfigText(config));
  }

  writeJson(name: string, value: unknown): void {
    this.writeFile(name, JSON.stringify(value, null, 2) + '\n');
  }

  private writeFile(name: string, text: string): void {
    try {
      writeFileAtomic(join(this.path, name), text);
    } catch (e) {
      throw new RunError(`cannot write ${join(this.path, name)} (${WHY[errCode(e)] ?? errCode(e)})`);
    }
  }

  /**
   * The manifest that ends the run (completed, failed, interrupted): the reserve is given back
   * first, so it fits even when the disk filled up during the run.
   */
  writeFinalManifest(manifest: unknown): void {
    this.freeReserve();
    this.writeJson('manifest.json', manifest);
  }

  private freeReserve(): void {
    if (!this.reserveKept) return;
    this.reserveKept = false;
    rmSync(join(this.path, RESERVE_FILE), { force: true });
  }

  appendTimeline(e: TimelineEvent): void {
    this.append(this.timeline, JSON.stringify(e) + '\n');
  }

  appendMetric(line: MetricsLine): void {
    this.append(this.metrics, JSON.stringify(line) + '\n');
  }

  private append(f: JsonlFile, text: string): void {
    if (this.writeError || this.closed) return;
    const buf = Buffer.from(text);
    try {
      let off = 0;
      while (off < buf.byteLength) off += writeSync(f.fd, buf, off, buf.byteLength - off, f.size + off);
      f.size += buf.byteLength;
    } catch (e) {
      // Cut a partial line back off: the file keeps only whole lines.
      try {
        ftruncateSync(f.fd, f.size);
      } catch {
        /* nothing more can be done; readers skip a partial last line */
      }
      const err = new RunError(`cannot write ${join(this.path, f.name)} (${WHY[errCode(e)] ?? errCode(e)})`);
      this.writeError = err;
      this.onWriteError?.(err);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.timeline.fd);
    closeSync(this.metrics.fd);
    this.freeReserve();
    this.lock.release();
  }
}
