import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { UserError } from '../util/user-error.ts';

/** What a programmable fault function may ask for one worker's step. */
export interface FaultAction {
  /** Multiply this step's compute time (>= 1). */
  slow?: number;
  /** Stall the worker this many (virtual) seconds at the start of the step. */
  stall?: number;
}

/**
 * The programmable form of the fault timeline (`faultsModule:`): a JS/TS module whose default
 * export is called for every worker-step with `{ worker, step, time }` (time = the step's virtual
 * start) and returns a FaultAction or nothing. It must be a pure function of its argument: it
 * runs in every worker process, and determinism depends on it.
 */
export type FaultProgram = (ctx: { worker: number; step: number; time: number }) => FaultAction | undefined | null | void;

export async function loadFaultProgram(file: string): Promise<FaultProgram> {
  let mod: { default?: unknown };
  try {
    // tsImport compiles TS wherever the file lives (outside this package too), as an ES module.
    mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  } catch (e) {
    throw new UserError(`faultsModule: cannot load ${file} (${(e as Error).message.split('\n')[0]})`);
  }
  // Outside an ESM package the module is compiled as CommonJS: its default export sits one level down.
  const inner = mod.default as { default?: unknown } | undefined;
  if (typeof mod.default !== 'function' && inner && typeof inner === 'object' && typeof inner.default === 'function') mod = inner;
  if (typeof mod.default !== 'function') {
    throw new UserError(`faultsModule: expected ${file} to export a default function ({ worker, step, time }) => ({ slow?, stall? }), found ${typeof mod.default}`);
  }
  const fn = mod.default as FaultProgram;
  return (ctx) => {
    const a = fn(ctx) ?? undefined;
    if (a === undefined) return undefined;
    if (typeof a !== 'object') throw new Error(`faultsModule ${file}: expected an object { slow?, stall? } for worker ${ctx.worker} step ${ctx.step}, found ${typeof a}`);
    if (a.slow !== undefined && !(typeof a.slow === 'number' && a.slow >= 1)) throw new Error(`faultsModule ${file}: slow must be a number >= 1, found ${String(a.slow)} (worker ${ctx.worker}, step ${ctx.step})`);
    if (a.stall !== undefined && !(typeof a.stall === 'number' && a.stall >= 0)) throw new Error(`faultsModule ${file}: stall must be seconds >= 0, found ${String(a.stall)} (worker ${ctx.worker}, step ${ctx.step})`);
    return a;
  };
}
