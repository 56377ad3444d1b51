import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { buildTopology } from '../../topologies/index.ts';
import { loadConfigText, locateKey } from '../config/load.ts';
import type { LoadedConfig } from '../config/types.ts';
import { UserError } from '../util/user-error.ts';

/** What a programmable fault function may ask for one worker's step. */
export interface FaultAction {
  /** Multiply this step's compute time (>= 1). */
  slow?: number;
  /** Stall the worker this many (virtual) seconds at the start of the step. */
  stall?: number;
}

/**
 * The programmable form of the fault timeline (`faultsModule:`), a JS/TS module with either or
 * both of these exports:
 * - default: called for every worker-step with `{ worker, step, time }` (time = the step's
 *   virtual start), returns a FaultAction or nothing;
 * - `timeline`: called once with `{ workers, steps, seed, topology, links }`, returns fault
 *   entries written as in YAML (crash with rejoin, link, partition, slow, stall; quantities as
 *   strings with units). They are validated like the YAML timeline, appended to it, and listed
 *   in the run's manifest.json. Crashes, links and partitions are known before the run starts,
 *   which the masters and the network model need; that is why they are generated, not per step.
 * Both must be pure functions of their argument: they run in every worker process (the
 * default export) and determinism depends on them.
 */
export type FaultProgram = (ctx: { worker: number; step: number; time: number }) => FaultAction | undefined | null | void;

/** The argument of a fault module's `timeline` export. */
export interface TimelineContext {
  workers: number;
  steps: number;
  seed: number;
  topology: string;
  /** Link ids a `link` fault may name ("0->1" on a ring, "server-in" / "server-out" on a star). */
  links: string[];
}

interface FaultModule {
  default?: unknown;
  timeline?: unknown;
}

/** `at`: where the config names the module ("exp.yaml:12:14: "), so its errors point there. */
async function importFaultModule(file: string, at = ''): Promise<FaultModule> {
  let mod: FaultModule & { default?: unknown };
  try {
    // tsImport compiles TS wherever the file lives (outside this package too), as an ES module.
    mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as FaultModule;
  } catch (e) {
    throw new UserError(`${at}faultsModule: cannot load ${file} (${(e as Error).message.split('\n')[0]})`);
  }
  // Outside an ESM package the module is compiled as CommonJS: its exports sit one level down.
  if (mod.default !== null && typeof mod.default === 'object') mod = mod.default as FaultModule;
  if (typeof mod.default !== 'function' && mod.timeline === undefined) {
    throw new UserError(
      `${at}faultsModule: expected ${file} to export a default function ({ worker, step, time }) => ({ slow?, stall? }) and/or a timeline function, found ${typeof mod.default}`,
    );
  }
  if (mod.default !== undefined && typeof mod.default !== 'function') {
    throw new UserError(`${at}faultsModule: expected the default export of ${file} to be a function ({ worker, step, time }) => ({ slow?, stall? }), found ${typeof mod.default}`);
  }
  return mod;
}

/** The module's per-step function, checked on every call (null if it only generates a timeline). */
export async function loadFaultProgram(file: string): Promise<FaultProgram | null> {
  const mod = await importFaultModule(file);
  if (typeof mod.default !== 'function') return null;
  const fn = mod.default as FaultProgram;
  return (ctx) => {
    const a = fn(ctx) ?? undefined;
    if (a === undefined) return undefined;
    if (typeof a !== 'object') throw new Error(`faultsModule ${file}: expected an object { slow?, stall? } for worker ${ctx.worker} step ${ctx.step}, found ${typeof a}`);
    if (a.slow !== undefined && !(typeof a.slow === 'number' && Number.isFinite(a.slow) && a.slow >= 1)) throw new Error(`faultsModule ${file}: slow must be a finite number >= 1, found ${String(a.slow)} (worker ${ctx.worker}, step ${ctx.step})`);
    if (a.stall !== undefined && !(typeof a.stall === 'number' && Number.isFinite(a.stall) && a.stall >= 0)) throw new Error(`faultsModule ${file}: stall must be finite seconds >= 0, found ${String(a.stall)} (worker ${ctx.worker}, step ${ctx.step})`);
    return a;
  };
}

/**
 * The experiment with the fault entries its module's `timeline` export generates appended to
 * its fault timeline (validated like YAML entries; errors name the module and the entry).
 * Unchanged if there is no module or no `timeline` export. The module is loaded and its exports
 * checked either way, so a broken module is reported here, before a run starts.
 */
export async function withGeneratedFaults(lc: LoadedConfig): Promise<LoadedConfig> {
  if (!lc.faultsModulePath) return lc;
  const at = `${locateKey(lc.file, lc.src, ['faultsModule'])}: `;
  const mod = await importFaultModule(lc.faultsModulePath, at);
  if (mod.timeline === undefined) return lc;
  const source = relative(process.cwd(), lc.faultsModulePath) || lc.faultsModulePath;
  const c = lc.config;
  const ctx: TimelineContext = {
    workers: c.workers,
    steps: c.train.steps,
    seed: c.seed,
    topology: c.topology.kind,
    links: buildTopology(c.topology.kind, c.workers, { bandwidth: 1, latency: 0 }, lc.topology).links.map((l) => l.id),
  };
  let entries: unknown;
  if (typeof mod.timeline === 'function') {
    try {
      entries = (mod.timeline as (x: TimelineContext) => unknown)(ctx);
    } catch (e) {
      throw new UserError(`${at}faultsModule: ${source}: timeline() failed: ${(e as Error).message.split('\n')[0]}`);
    }
  } else entries = mod.timeline;
  if (!Array.isArray(entries)) {
    throw new UserError(`${at}faultsModule: ${source}: expected timeline to be an array of fault entries or a function ({ workers, steps, seed, topology, links }) returning one, found ${typeof entries}`);
  }
  return loadConfigText(lc.file, lc.src, { sets: lc.sets, generatedFaults: { entries, source } });
}
