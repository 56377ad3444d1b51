import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeSweepReport } from '../plot/html-report.ts';
import { fileURLToPath } from 'node:url';
import { loadConfig, locateKey } from '../config/load.ts';
import { SWEEP_MAX_POINTS } from '../config/limits.ts';
import { DirLock } from '../metrics/dir-lock.ts';
import { prepareOutputDir } from '../metrics/run-dir.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { withGeneratedFaults } from './fault-program.ts';
import type { LoadedConfig } from '../config/types.ts';
import { resolvedConfigText } from '../metrics/run-dir.ts';
import type { Summary } from '../metrics/summary.ts';
import { plotOverlay, readMetrics, type XAxis, type YAxis } from '../plot/run-plots.ts';
import { RunError, UserError } from '../util/user-error.ts';

const BIN = fileURLToPath(new URL('../../bin/dtemu.js', import.meta.url));

export interface SweepPoint {
  /** Directory name inside the sweep directory, stable across reruns. */
  id: string;
  /** Human label: the keys that vary, e.g. "localSteps=4 compressor=sign-topk(0.01) seed=2". */
  label: string;
  /** The `--set` overrides that make this point. */
  sets: string[];
  values: Record<string, unknown>;
  seed: number;
}

export interface SweepRow {
  point: SweepPoint;
  status: 'completed' | 'skipped (done before)' | 'failed';
  summary: Summary | null;
  error?: string;
}

/** Short text for a grid value: scalars as they are, compressor-like mappings as kind(args). */
export function describeValue(v: unknown): string {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const rest = Object.entries(o).filter(([k]) => k !== 'kind');
    if (typeof o['kind'] === 'string') return rest.length ? `${o['kind']}(${rest.map(([, x]) => describeValue(x)).join(',')})` : String(o['kind']);
    return rest.map(([k, x]) => `${k}:${describeValue(x)}`).join(',');
  }
  if (Array.isArray(v)) return `[${v.map(describeValue).join(',')}]`;
  return String(v);
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._=,()-]+/g, '_').slice(0, 120);
}

/** A grid value as `--set` text (YAML): JSON, except that .inf / .nan stay what they are (JSON would make them null). */
function setValue(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf';
  return JSON.stringify(v);
}

/**
 * Every combination of the grid (in file order, last key fastest), times every seed. The count
 * is checked against `maxPoints` before a single point is built (8 keys x 10 values = 10^8).
 */
export function sweepPoints(lc: LoadedConfig, maxPoints = SWEEP_MAX_POINTS): SweepPoint[] {
  const sweep = lc.config.sweep;
  if (!sweep) throw new UserError(`${lc.file}: sweep: expected a sweep block (grid and/or seeds) for dtemu sweep`);
  const keys = Object.keys(sweep.grid);
  const seeds = sweep.seeds ?? [lc.config.seed];
  const sizes = [...keys.map((k) => sweep.grid[k]!.length), seeds.length];
  const count = sizes.reduce((a, b) => a * b, 1);
  if (count > maxPoints) {
    throw new UserError(
      `${locateKey(lc.file, lc.src, ['sweep', 'grid'])}: sweep.grid: expected at most ${maxPoints} points (raise with --max-points), found ${sizes.join(' x ')} = ${count}`,
    );
  }
  let combos: Record<string, unknown>[] = [{}];
  for (const k of keys) combos = combos.flatMap((c) => sweep.grid[k]!.map((v) => ({ ...c, [k]: v })));
  const points: SweepPoint[] = [];
  for (const combo of combos) {
    for (const seed of seeds) {
      const parts = keys.map((k) => `${k.split('.').pop()}=${describeValue(combo[k])}`);
      if (seeds.length > 1 || sweep.seeds) parts.push(`seed=${seed}`);
      const label = parts.join(' ') || 'base';
      points.push({
        id: `${String(points.length + 1).padStart(3, '0')}_${safeName(parts.join('_') || 'base')}`,
        label,
        sets: [...keys.map((k) => `${k}=${setValue(combo[k])}`), `seed=${seed}`],
        values: combo,
        seed,
      });
    }
  }
  return points;
}

/** Completed, and with exactly the configuration this point resolves to now (else rerun). */
function isComplete(dir: string, configText?: string): boolean {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { status: string };
    if (m.status !== 'completed' || !existsSync(join(dir, 'summary.json'))) return false;
    return configText === undefined || readFileSync(join(dir, 'config.yaml'), 'utf8') === configText;
  } catch {
    return false;
  }
}

function runChild(file: string, dir: string, sets: string[], onChild: (kill: () => void) => void): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [BIN, 'run', file, '--out', dir, '--quiet', ...sets.flatMap((s) => ['--set', s])], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    onChild(() => child.kill('SIGINT'));
    child.on('exit', (code) => resolveRun({ code, stderr: stderr.trim() }));
  });
}

export interface SweepOptions {
  outDir?: string;
  parallel?: number;
  /** Refuse grids with more points (default SWEEP_MAX_POINTS). */
  maxPoints?: number;
  onProgress?: (done: number, total: number, row: SweepRow) => void;
  onAbortHook?: (abort: () => void) => void;
}

/**
 * Run a sweep: one run directory per point under the sweep directory (default runs/<name>-sweep),
 * skipping points whose run completed before and rerunning interrupted ones from the start;
 * then sweep.csv, a printed table and overlay plots. Every point is validated before anything
 * runs, so a bad grid value exits 2 without touching the sweep directory.
 */
export async function runSweep(file: string, opts: SweepOptions = {}): Promise<{ dir: string; rows: SweepRow[] }> {
  const base = loadConfig(file);
  const points = sweepPoints(base, opts.maxPoints);
  const configTexts = new Map<string, string>();
  for (const p of points) {
    try {
      // With the fault module's generated entries too: a point they make invalid fails here.
      const lc = await withGeneratedFaults(loadConfig(file, { sets: p.sets }));
      configTexts.set(p.id, resolvedConfigText(lc.config));
    } catch (e) {
      if (e instanceof UserError) throw sweepPointError(base, p, e);
      throw e;
    }
  }
  const flag = opts.outDir ? `--out ${opts.outDir}` : join('runs', `${base.config.name}-sweep`);
  const dir = resolve(opts.outDir ?? join('runs', `${base.config.name}-sweep`));
  prepareOutputDir(dir, flag);
  // One sweep per directory: a second one would delete the first one's point in progress.
  const lock = DirLock.acquire(dir, 'sweep', flag);
  try {
    return await runPoints(file, dir, points, configTexts, base, opts);
  } finally {
    lock.release();
  }
}

/**
 * A point's error placed at the grid value (or seed) that made it: "file:line:col: sweep point
 * LABEL: key: what", instead of the `--set` the point was built from.
 */
function sweepPointError(base: LoadedConfig, p: SweepPoint, e: UserError): UserError {
  const m = /^--set ([^:]+): (.*)$/.exec(e.message);
  if (!m) return new UserError(`${e.message} (sweep point ${p.label})`);
  const key = m[1]!;
  // The loader repeats the key after the --set; say it once.
  const rest = m[2]!.startsWith(`${key}: `) ? m[2]!.slice(key.length + 2) : m[2]!;
  const grid = base.config.sweep?.grid ?? {};
  let where: (string | number)[] = ['sweep'];
  const gk = Object.keys(grid).find((k) => key === k || key.startsWith(`${k}.`));
  if (gk) where = ['sweep', 'grid', gk, Math.max(0, grid[gk]!.indexOf(p.values[gk]))];
  else if (key === 'seed' && base.config.sweep?.seeds) where = ['sweep', 'seeds', Math.max(0, base.config.sweep.seeds.indexOf(p.seed))];
  return new UserError(`${locateKey(base.file, base.src, where)}: sweep point ${p.label}: ${key}: ${rest}`);
}

async function runPoints(
  file: string,
  dir: string,
  points: SweepPoint[],
  configTexts: Map<string, string>,
  base: LoadedConfig,
  opts: SweepOptions,
): Promise<{ dir: string; rows: SweepRow[] }> {
  const parallel = opts.parallel ?? base.config.sweep?.parallel ?? 1;
  const rows: SweepRow[] = new Array(points.length);
  const kills = new Set<() => void>();
  let aborted = false;
  opts.onAbortHook?.(() => {
    aborted = true;
    for (const k of kills) k();
  });
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (!aborted && next < points.length) {
      const i = next++;
      const p = points[i]!;
      const runDir = join(dir, p.id);
      let row: SweepRow;
      if (isComplete(runDir, configTexts.get(p.id))) {
        row = { point: p, status: 'skipped (done before)', summary: JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as Summary };
      } else {
        rmSync(runDir, { recursive: true, force: true });
        let kill: () => void = () => {};
        const r = await runChild(file, runDir, p.sets, (k) => {
          kill = k;
          kills.add(k);
        });
        kills.delete(kill);
        row =
          r.code === 0 && isComplete(runDir)
            ? { point: p, status: 'completed', summary: JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as Summary }
            : { point: p, status: 'failed', summary: null, error: r.stderr.split('\n').pop() ?? `exit ${r.code}` };
      }
      rows[i] = row;
      done++;
      opts.onProgress?.(done, points.length, row);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, points.length) }, worker));
  if (aborted) throw new RunError(`sweep interrupted; rerun 'dtemu sweep ${file}' to complete the missing runs`, 130);
  writeSweepOutputs(dir, rows);
  return { dir, rows };
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? describeValue(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const SWEEP_COLUMNS = ['finalAccuracy', 'finalLoss', 'totalBits', 'peakStepBits', 'simTimeSec', 'wallTimeSec', 'timeToTargetSimSec', 'timeToTargetBits'] as const;

/** sweep.csv (one row per point) and overlay plots of every completed run. */
export function writeSweepOutputs(dir: string, rows: SweepRow[]): void {
  const keys = Object.keys(rows[0]?.point.values ?? {});
  const header = ['run', ...keys, 'seed', 'status', ...SWEEP_COLUMNS];
  const lines = [header.join(',')];
  const cellsRows: string[][] = [];
  for (const r of rows) {
    const s = r.summary;
    const cells = [
        r.point.id,
        ...keys.map((k) => r.point.values[k]),
        r.point.seed,
        r.status,
        s?.finalAccuracy,
        s?.finalLoss,
        s?.totalBits,
        s?.peakStepBits,
        s?.simTimeSec,
        s?.wallTimeSec,
        s?.timeToTarget?.simTimeSec,
        s?.timeToTarget?.bits,
      ].map((v) => (v === null || v === undefined ? '' : typeof v === 'object' ? describeValue(v) : String(v)));
    cellsRows.push(cells);
    lines.push(cells.map(csvCell).join(','));
  }
  writeFileAtomic(join(dir, 'sweep.csv'), lines.join('\n') + '\n');
  const runs = rows.filter((r) => r.summary).map((r) => ({ label: r.point.label, lines: readMetrics(join(dir, r.point.id)) }));
  mkdirSync(join(dir, 'plots'), { recursive: true });
  const plots: [XAxis, YAxis][] = [
    ['bits', 'accuracy'],
    ['bits', 'loss'],
    ['time', 'accuracy'],
    ['step', 'accuracy'],
  ];
  for (const [x, y] of plots) plotOverlay(runs, x, y, join(dir, 'plots', `${y}_vs_${x}.png`));
  writeSweepReport(dir, `sweep: ${basename(dir)}`, runs, header, cellsRows);
}

/** The table printed at the end of a sweep. */
export function formatSweepTable(rows: SweepRow[]): string {
  const head = ['run', 'accuracy', 'test loss', 'MB sent', 'sim time (s)', 'status'];
  const body = rows.map((r) => [
    r.point.label,
    r.summary?.finalAccuracy === null || r.summary?.finalAccuracy === undefined ? '-' : `${(100 * r.summary.finalAccuracy).toFixed(2)}%`,
    r.summary?.finalLoss?.toFixed(4) ?? '-',
    r.summary ? (r.summary.totalBits / 8e6).toFixed(2) : '-',
    r.summary ? r.summary.simTimeSec.toFixed(3) : '-',
    r.status + (r.error ? `: ${r.error}` : ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [fmt(head), ...body.map(fmt)].join('\n');
}
