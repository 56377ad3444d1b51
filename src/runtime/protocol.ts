import type { WorkerReport } from '../../optimizers/worker-context.ts';
import type { LoadedConfig } from '../config/types.ts';
import type { PeerEntry } from '../../comm/transport/peer-mesh.ts';
import type { ResumeState } from './worker-host.ts';

/** Control messages (JSON text frames); data messages are binary frames (comm/transport/wire-codec.ts). */
export type ToCoordinator =
  /** `replaces`: the index of a crashed process this one takes over from (fault timeline rejoin). */
  /** `process`: the index this process must take (SLURM_PROCID under the Slurm launcher). */
  | { t: 'hello'; token: string; pid: number; host: string; replaces?: number; process?: number }
  | { t: 'ready'; backend: string; device?: string; peerUrl: string }
  | { t: 'report'; r: WorkerReport }
  | { t: 'done' }
  | { t: 'crash'; rank: number; step: number; bytesSent: number; messagesSent: number; bytesTo: [number, number][]; bytesFrom?: [number, number][] }
  | { t: 'error'; message: string };

export type ToWorker =
  | { t: 'init'; ranks: number[]; lc: LoadedConfig; process: number; resume?: ResumeState }
  | { t: 'start'; startedAt: number; peers: PeerEntry[] }
  | { t: 'stop' }
  | { t: 'refused'; reason: string };

export const CLOSE_BAD_TOKEN = 4001;
export const CLOSE_NOT_NEEDED = 4002;
