import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { LineCounter, parseDocument, type Node } from 'yaml';
import { writeSweepReport } from '../plot/html-report.ts';
import { loadConfig, locateKey } from '../config/load.ts';
import { SWEEP_MAX_POINTS } from '../config/limits.ts';
import { DirLock, liveHolder } from '../metrics/dir-lock.ts';
import { dirNameOf, prepareOutputDir } from '../metrics/run-dir.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';
import { withGeneratedFaults } from './fault-program.ts';
import type { LoadedConfig } from '../config/types.ts';
import { resolvedConfigText } from '../metrics/run-dir.ts';
import type { Summary } from '../metrics/summary.ts';
import { plotGroups, readMetrics, type XAxis, type YAxis } from '../plot/run-plots.ts';
import type { CurveGroup } from '../plot/seed-aggregate.ts';
import { RunError, UserError } from '../util/user-error.ts';
import { DTEMU_BIN } from '../util/package-root.ts';

const BIN = DTEMU_BIN;

export interface SweepPoint {
  /** Directory name inside the sweep directory, stable across reruns. */
  id: string;
  /** Human label: the keys that vary, e.g. "localSteps=4 compressor=sign-topk(0.01) seed=2". */
  label: string;
  /** The `--set` overrides that make this point. */
  sets: string[];
  values: Record<string, unknown>;
  seed: number;
  /** "file:line:col" of the grid entry (or seed) behind each override, for error messages. */
  origins: Record<string, string>;
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

/** "file:line:col" of the YAML node at `path` in the experiment's source (parsed once), if it is there. */
function locateIn(lc: LoadedConfig): (path: (string | number)[]) => string | undefined {
  const counter = new LineCounter();
  const doc = parseDocument(lc.src, { lineCounter: counter });
  return (path) => {
    const node = doc.getIn(path, true) as Node | undefined;
    if (!node?.range) return undefined;
    const { line, col } = counter.linePos(node.range[0]);
    return `${lc.file}:${line}:${col}`;
  };
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
  const locate = locateIn(lc);
  // Where each grid entry (and seed) is written, for error messages naming the point's entry.
  const gridAt = new Map(keys.map((k) => [k, sweep.grid[k]!.map((_, i) => locate(['sweep', 'grid', k, i]))]));
  const seedAt = sweep.seeds ? sweep.seeds.map((_, i) => locate(['sweep', 'seeds', i])) : null;
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
        origins: Object.fromEntries(
          [
            ...keys.map((k) => [k, gridAt.get(k)![sweep.grid[k]!.indexOf(combo[k])]] as const),
            ['seed', seedAt?.[seeds.indexOf(seed)]] as const,
          ]
            .filter((e): e is readonly [string, string] => e[1] !== undefined)
            .map(([k, at]) => [k, `${at}: sweep point ${label}`]),
        ),
      });
    }
  }
  return points;
}

/** Completed, and with exactly the configuration this point resolves to now (else rerun). */
export function isComplete(dir: string, configText?: string): boolean {
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

/**
 * Load a sweep file and resolve every point (grid x seeds, with `sets` from the command line
 * applied to all), fault modules included, before anything runs: a bad grid value is a located
 * input error naming its grid entry's line. `dtemu validate` and `dtemu sweep` share it.
 */
export async function checkSweep(
  file: string,
  sets: string[] = [],
  maxPoints?: number,
): Promise<{ base: LoadedConfig; points: SweepPoint[]; configTexts: Map<string, string>; datasets: Set<string> }> {
  const base = loadConfig(file, { sets });
  const points = sweepPoints(base, maxPoints);
  const configTexts = new Map<string, string>();
  const datasets = new Set<string>();
  for (const p of points) {
    try {
      // With the fault module's generated entries too: a point they make invalid fails here.
      // A grid value's error is located at its entry (setOrigins: "file:line:col: sweep point ...").
      const lc = await withGeneratedFaults(loadConfig(file, { sets: [...sets, ...p.sets], setOrigins: p.origins }));
      configTexts.set(p.id, resolvedConfigText(lc.config));
      datasets.add(lc.config.data.dataset);
    } catch (e) {
      // An error located elsewhere (a key the point's values make invalid) still names the point.
      if (e instanceof UserError && !e.message.includes(': sweep point ')) throw new UserError(`${e.message} (sweep point ${p.label})`);
      throw e;
    }
  }
  return { base, points, configTexts, datasets };
}

export interface SweepOptions {
  /** `--set` overrides applied to every point (before the grid's). */
  sets?: string[];
  outDir?: string;
  parallel?: number;
  /** Refuse grids with more points (default SWEEP_MAX_POINTS). */
  maxPoints?: number;
  onProgress?: (done: number, total: number, row: SweepRow) => void;
  onAbortHook?: (abort: () => void) => void;
  /**
   * Called once every point is valid, before the sweep directory exists, with the data sets the
   * points use (the CLI fetches a missing Fashion-MNIST here, once, where it can ask for sudo,
   * rather than in every point's run with no terminal).
   */
  beforeRuns?: (datasets: Set<string>) => void;
}

/**
 * Run a sweep: one run directory per point under the sweep directory (default runs/<name>-sweep),
 * skipping points whose run completed before and rerunning interrupted ones from the start;
 * then sweep.csv, a printed table and overlay plots. Every point is validated before anything
 * runs, so a bad grid value exits 2 without touching the sweep directory.
 */
export async function runSweep(file: string, opts: SweepOptions = {}): Promise<{ dir: string; rows: SweepRow[] }> {
  const cliSets = opts.sets ?? [];
  const { base, points, configTexts, datasets } = await checkSweep(file, cliSets, opts.maxPoints);
  opts.beforeRuns?.(datasets);
  // The default directory from the name as a run's is made (a name like ../x stays inside runs/).
  const flag = opts.outDir ? `--out ${opts.outDir}` : join('runs', `${dirNameOf(base.config.name)}-sweep`);
  const dir = resolve(opts.outDir ?? flag);
  prepareOutputDir(dir, flag);
  // One sweep per directory: a second one would delete the first one's point in progress.
  const lock = DirLock.acquire(dir, 'sweep', flag);
  try {
    return await runPoints(file, dir, points, configTexts, base, opts);
  } finally {
    lock.release();
  }
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
  // An earlier sweep's table describes runs this one may delete and rerun: until this sweep
  // writes its own, there is none (an interrupted sweep must not leave the old one standing).
  rmSync(join(dir, 'sweep.csv'), { force: true });
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (!aborted && next < points.length) {
      const i = next++;
      const p = points[i]!;
      const runDir = join(dir, p.id);
      let row: SweepRow;
      const holder = liveHolder(runDir);
      if (isComplete(runDir, configTexts.get(p.id))) {
        row = { point: p, status: 'skipped (done before)', summary: JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as Summary };
      } else if (holder) {
        // A run still going there (left by a sweep that was killed): never delete it under its feet.
        row = { point: p, status: 'failed', summary: null, error: `${runDir} is in use by dtemu ${holder.command} (pid ${holder.pid} on ${holder.host}); rerun the sweep once it has finished` };
      } else {
        rmSync(runDir, { recursive: true, force: true });
        let kill: () => void = () => {};
        const r = await runChild(file, runDir, [...(opts.sets ?? []), ...p.sets], (k) => {
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

/** The summary values of SWEEP_COLUMNS for one run (undefined where it has none). */
function columnValues(s: Summary | null): (number | null | undefined)[] {
  return [s?.finalAccuracy, s?.finalLoss, s?.totalBits, s?.peakStepBits, s?.simTimeSec, s?.wallTimeSec, s?.timeToTarget?.simTimeSec, s?.timeToTarget?.bits];
}

/** Label of a point without its seed: the seeds of one grid combination form one group. */
export function groupLabel(p: SweepPoint): string {
  return p.label.replace(/ ?seed=\S+$/, '') || 'base';
}

/** Rows of the same grid combination (several seeds), in the order they first appear. */
function seedGroups(rows: SweepRow[]): SweepRow[][] {
  const groups = new Map<string, SweepRow[]>();
  for (const r of rows) {
    const k = JSON.stringify(r.point.values);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return [...groups.values()];
}

/**
 * Aggregate rows of a group with several completed seeds: mean, sample std, min and max of
 * every column over the seeds that have a value (the status says how many seeds there are).
 */
function aggregateRows(group: SweepRow[], keys: string[]): string[][] {
  const done = group.filter((r) => r.summary);
  if (done.length < 2) return [];
  const cols = done.map((r) => columnValues(r.summary));
  const stats = { mean: [] as string[], std: [] as string[], min: [] as string[], max: [] as string[] };
  SWEEP_COLUMNS.forEach((_, c) => {
    const v = cols.map((row) => row[c]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
    const put = (k: keyof typeof stats, x: number) => stats[k].push(v.length ? String(x) : '');
    put('mean', mean);
    put('std', std);
    put('min', Math.min(...v));
    put('max', Math.max(...v));
  });
  const p = done[0]!.point;
  return (Object.keys(stats) as (keyof typeof stats)[]).map((k) => [
    `${k}(${groupLabel(p)})`,
    ...keys.map((key) => (typeof p.values[key] === 'object' ? describeValue(p.values[key]) : String(p.values[key]))),
    k,
    `${done.length} of ${group.length} seeds`,
    ...stats[k],
  ]);
}

/**
 * sweep.csv (one row per run, then for each grid combination with several seeds its mean, std,
 * min and max rows: seed column = the statistic) and overlay plots of every completed run
 * (several seeds: their mean with a min-max band).
 */
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
  const groups = seedGroups(rows);
  for (const g of groups) {
    for (const cells of aggregateRows(g, keys)) {
      cellsRows.push(cells);
      lines.push(cells.map(csvCell).join(','));
    }
  }
  writeFileAtomic(join(dir, 'sweep.csv'), lines.join('\n') + '\n');
  const runs = rows.filter((r) => r.summary).map((r) => ({ label: r.point.label, lines: readMetrics(join(dir, r.point.id)) }));
  const curves: CurveGroup[] = groups
    .map((g) => g.filter((r) => r.summary))
    .filter((g) => g.length > 0)
    .map((g) => ({ label: g.length > 1 ? groupLabel(g[0]!.point) : g[0]!.point.label, runs: g.map((r) => readMetrics(join(dir, r.point.id))) }));
  mkdirSync(join(dir, 'plots'), { recursive: true });
  const plots: [XAxis, YAxis][] = [
    ['bits', 'accuracy'],
    ['bits', 'loss'],
    ['time', 'accuracy'],
    ['step', 'accuracy'],
  ];
  for (const [x, y] of plots) plotGroups(curves, x, y, join(dir, 'plots', `${y}_vs_${x}.png`));
  writeSweepReport(dir, `sweep: ${basename(dir)}`, runs, header, cellsRows, curves);
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
