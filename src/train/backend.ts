import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { registerConv2DBackpropFilter } from './kernels/conv2d-backprop-filter.ts';
import { registerTransposedMatMul } from './kernels/transposed-matmul.ts';
import { registerUnsortedSegmentSum } from './kernels/unsorted-segment-sum.ts';

export type BackendChoice = 'auto' | 'node-gpu' | 'node' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'node-gpu', 'node', 'wasm', 'cpu'];

const require = createRequire(import.meta.url);
let active: string | null = null;

/** Loading tfjs-node registers its backend on the shared tfjs-core; optional and may be absent. */
async function tryLoad(pkg: string): Promise<boolean> {
  try {
    require.resolve(pkg);
  } catch {
    return false;
  }
  try {
    await import(pkg);
    return true;
  } catch {
    return false;
  }
}

async function activate(name: string): Promise<boolean> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch {
    ok = false;
  }
  // tfjs falls back silently; trust only what it reports.
  return ok && tf.getBackend() === name;
}

/**
 * Select and initialise the compute backend. `auto` tries node-gpu, node, wasm, cpu in order.
 * Returns the backend really active (recorded in the manifest).
 */
export async function selectBackend(choice: BackendChoice): Promise<string> {
  if (active) {
    if (choice === 'auto' || backendNameOf(choice) === active) return active;
    throw new Error(`backend already initialised as ${active}, cannot switch to ${choice}`);
  }
  const order: BackendChoice[] = choice === 'auto' ? ['node-gpu', 'node', 'wasm', 'cpu'] : [choice];
  for (const c of order) {
    if (c === 'node-gpu' && !(await tryLoad('@tensorflow/tfjs-node-gpu'))) continue;
    if (c === 'node' && !(await tryLoad('@tensorflow/tfjs-node'))) continue;
    if (c === 'wasm') {
      // The wasm module's Emscripten glue installs process-wide uncaughtException and
      // unhandledRejection handlers that rethrow (printing its whole minified source). Error
      // reporting is the CLI's job: drop the handlers it added.
      const before = {
        uncaught: new Set(process.listeners('uncaughtException')),
        unhandled: new Set(process.listeners('unhandledRejection')),
      };
      await import('@tensorflow/tfjs-backend-wasm');
      const name = backendNameOf(c);
      const ok = await activate(name);
      for (const l of process.listeners('uncaughtException')) if (!before.uncaught.has(l)) process.off('uncaughtException', l);
      for (const l of process.listeners('unhandledRejection')) if (!before.unhandled.has(l)) process.off('unhandledRejection', l);
      if (ok) {
        patchWasmKernels();
        active = name;
        return name;
      }
      continue;
    }
    const name = backendNameOf(c);
    if (await activate(name)) {
      if (name === 'wasm') patchWasmKernels();
      active = name;
      return name;
    }
  }
  throw new Error(`backend '${choice}' is not available on this machine`);
}

/** The npm package a backend choice needs beyond the embedded ones (wasm, cpu), if any. */
export function backendPackage(c: BackendChoice): string | null {
  return c === 'node-gpu' ? '@tensorflow/tfjs-node-gpu' : c === 'node' ? '@tensorflow/tfjs-node' : null;
}

/** Whether a package can be loaded from here (without loading it). */
export function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * The device the active backend reports, for the manifest: tfjs-node(-gpu) says whether
 * TensorFlow placed work on a CUDA GPU; wasm and cpu always run on the CPU.
 */
export function backendDevice(): string {
  if (active === 'tensorflow') {
    const b = tf.backend() as unknown as { isGPUPackage?: boolean; isUsingGpuDevice?: boolean };
    if (b.isUsingGpuDevice) return 'GPU (CUDA, @tensorflow/tfjs-node-gpu)';
    return b.isGPUPackage ? 'CPU (@tensorflow/tfjs-node-gpu found no usable GPU)' : 'CPU (@tensorflow/tfjs-node, libtensorflow)';
  }
  if (active === 'wasm') return 'CPU (WebAssembly, one thread)';
  if (active === 'cpu') return 'CPU (pure JavaScript)';
  return 'none';
}

function backendNameOf(c: BackendChoice): string {
  return c === 'node' || c === 'node-gpu' ? 'tensorflow' : c;
}

let wasmPatched = false;
/** Register the kernels stock wasm lacks or runs slowly (see DESIGN.md, measured facts). */
export function patchWasmKernels(): void {
  if (wasmPatched) return;
  registerTransposedMatMul('wasm');
  registerConv2DBackpropFilter('wasm');
  registerUnsortedSegmentSum('wasm');
  wasmPatched = true;
}

export function activeBackend(): string | null {
  return active;
}
