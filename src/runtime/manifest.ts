import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/types.ts';
import { PACKAGE_ROOT } from '../util/package-root.ts';

const require = createRequire(import.meta.url);
const ROOT = PACKAGE_ROOT;

export interface Manifest {
  name: string;
  seed: number;
  configFile: string;
  startedAt: string;
  endedAt: string | null;
  /** failed: an error (the reason in `error`); interrupted: Ctrl-C / SIGTERM. */
  status: 'running' | 'completed' | 'failed' | 'interrupted';
  error?: string;
  /** The coordinator process: `dtemu status` tells a dead run (killed) from a running one by it. */
  pid: number;
  host: string;
  backend: string;
  /** The device the backend reports (GPU or CPU, and through which package); over ws, every process's, distinct ones joined. */
  device?: string;
  transport: string;
  /** Processes that ran workers; a crashed one (fault timeline) says at which step. */
  processes: { index: number; pid: number; host: string; ranks: number[]; backend: string; device?: string; crashedAtStep?: number }[];
  /** Fault entries the fault module's `timeline` export generated (appended to `faults`). */
  generatedFaults?: unknown[];
  versions: Record<string, string>;
  gitRevision: string | null;
  argv: string[];
}

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), 'utf8')) as { version: string }).version;
  } catch {
    return 'absent';
  }
}

function gitRevision(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

/** `argv`: the command line that started the run (the CLI passes its own; the API none). */
export function runManifest(lc: LoadedConfig, startedAt: number, argv: string[] = []): Manifest {
  const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return {
    name: lc.config.name,
    seed: lc.config.seed,
    configFile: lc.file,
    startedAt: new Date(startedAt).toISOString(),
    endedAt: null,
    status: 'running',
    pid: process.pid,
    host: hostname(),
    backend: '',
    transport: lc.config.transport.kind,
    processes: [],
    versions: {
      dtemu: own.version,
      node: process.versions.node,
      '@tensorflow/tfjs': versionOf('@tensorflow/tfjs'),
      '@tensorflow/tfjs-backend-wasm': versionOf('@tensorflow/tfjs-backend-wasm'),
      '@tensorflow/tfjs-node': versionOf('@tensorflow/tfjs-node'),
      '@tensorflow/tfjs-node-gpu': versionOf('@tensorflow/tfjs-node-gpu'),
      ws: versionOf('ws'),
    },
    gitRevision: gitRevision(),
    argv,
    ...(lc.generatedFaults.length > 0 ? { generatedFaults: lc.generatedFaults } : {}),
  };
}
