import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import type { ExperimentConfig } from '../config/types.ts';
import { UserError } from '../util/user-error.ts';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { MetricsLine, TimelineEvent } from './aggregator.ts';

/** config.yaml's text: the resolved point, without the sweep block that may have produced it. */
export function resolvedConfigText(config: ExperimentConfig): string {
  const { sweep: _sweep, ...resolved } = config;
  return stringify(resolved);
}

/**
 * The run directory contract (DESIGN.md): config.yaml, manifest.json, metrics.jsonl,
 * summary.json, plots/. metrics.jsonl is appended one whole line per write, so a run that dies
 * leaves every line written so far intact and parseable. JSON files are replaced atomically.
 */
export class RunDir {
  private fd: number;
  private timelineFd: number;

  private constructor(readonly path: string) {
    mkdirSync(join(path, 'plots'), { recursive: true });
    this.fd = openSync(join(path, 'metrics.jsonl'), 'wx');
    this.timelineFd = openSync(join(path, 'timeline.jsonl'), 'wx');
  }

  /**
   * Create the run directory. An existing non-empty directory is never reused: results of an
   * earlier run are not to be overwritten or mixed with this one's.
   */
  static create(path: string): RunDir {
    if (existsSync(path) && readdirSync(path).length > 0) {
      throw new UserError(`--out ${path}: the directory exists and is not empty; choose a new one`);
    }
    return new RunDir(path);
  }

  /** runs/<name>-<time>[-k]: claimed atomically (mkdir fails if another run took it). */
  static createFresh(base: string, name: string): RunDir {
    return new RunDir(RunDir.claimFreshPath(base, name));
  }

  private static claimFreshPath(base: string, name: string): string {
    const safe = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
    mkdirSync(base, { recursive: true });
    for (let i = 1; ; i++) {
      const p = join(base, i === 1 ? `${safe}-${stamp}` : `${safe}-${stamp}-${i}`);
      try {
        mkdirSync(p);
        return p;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  }

  writeConfig(config: ExperimentConfig): void {
    writeFileSync(join(this.path, 'config.yaml'), resolvedConfigText(config));
  }

  writeJson(name: string, value: unknown): void {
    const tmp = join(this.path, `.${name}.tmp`);
    const fd = openSync(tmp, 'w');
    writeSync(fd, JSON.stringify(value, null, 2) + '\n');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, join(this.path, name));
  }

  /** Timeline lines of the step being aggregated: one write per step, not one per worker. */
  private timelineBuf: string[] = [];

  appendTimeline(e: TimelineEvent): void {
    this.timelineBuf.push(JSON.stringify(e) + '\n');
  }

  private flushTimeline(): void {
    if (this.timelineBuf.length === 0) return;
    writeSync(this.timelineFd, this.timelineBuf.join(''));
    this.timelineBuf = [];
  }

  appendMetric(line: MetricsLine): void {
    // A step's timeline events precede its metrics line: both are on disk once it is written.
    this.flushTimeline();
    writeSync(this.fd, JSON.stringify(line) + '\n');
  }

  close(): void {
    this.flushTimeline();
    closeSync(this.timelineFd);
    closeSync(this.fd);
  }
}
