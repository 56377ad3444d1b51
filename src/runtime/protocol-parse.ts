import type { WorkerReport } from '../../optimizers/worker-context.ts';
import type { ToCoordinator, ToWorker } from './protocol.ts';
import { COLLECTIVE_CHOICES } from '../../comm/collectives/choices.ts';

/**
 * Defensive parsing of control messages (JSON text frames). Everything read from a socket is
 * hostile until it has the shape the protocol promises: a frame that does not is refused here
 * with a short reason, so no handler ever reads a property of `null`, a list or a number.
 */
export type Parsed<T> = { ok: true; msg: T } | { ok: false; reason: string };

/** Control frames are small (a report, a hello); `init` carries the config and is the largest. */
export const MAX_CONTROL_TEXT = 4 * 1024 * 1024;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
/** A float that JSON may have turned into null (NaN/Infinity, e.g. a diverged loss). */
const isNumOrNull = (v: unknown): boolean => v === null || (typeof v === 'number' && !Number.isNaN(v));
const isStr = (v: unknown, max = 4096): v is string => typeof v === 'string' && v.length <= max;
const isPairs = (v: unknown): v is [number, number][] => Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && isNat(p[0]) && isNat(p[1]));

function parseJson(text: string, max = MAX_CONTROL_TEXT): Parsed<Obj> {
  if (text.length > max) return { ok: false, reason: `control message too long (${text.length} characters)` };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'control message is not JSON' };
  }
  if (!isObj(v) || typeof v['t'] !== 'string') return { ok: false, reason: 'control message is not an object with a type' };
  return { ok: true, msg: v };
}

/** An eval report's extra fields: at most 64 names, each a number or a list of at most 4096 numbers. */
const isExtra = (v: unknown): boolean =>
  isObj(v) &&
  Object.keys(v).length <= 64 &&
  Object.entries(v).every(([k, x]) => k.length <= 64 && !['kind', 'step', 'simTimeSec', 'wallTimeSec', 'bits', 'uplinkBits', 'downlinkBits', 'evalLoss', 'evalAccuracy'].includes(k) && (isNumOrNull(x) || (Array.isArray(x) && x.length <= 4096 && x.every(isNumOrNull))));

function report(v: unknown): v is WorkerReport {
  if (!isObj(v) || !isNat(v['rank']) || !isNat(v['step'])) return false;
  if (v['type'] === 'eval') return isNumOrNull(v['simTime']) && isNumOrNull(v['evalLoss']) && isNumOrNull(v['evalAccuracy']) && (v['extra'] === undefined || isExtra(v['extra']));
  if (v['type'] !== 'step') return false;
  for (const k of ['loss', 'simTime', 'compute', 'delay', 'comm', 'wallTime', 'gradWallSec', 'gradCpuSec']) if (!isNumOrNull(v[k])) return false;
  if (!isNat(v['bytesSent'])) return false;
  if (v['bytesFromServer'] !== undefined && !isNat(v['bytesFromServer'])) return false;
  if (v['bytesTo'] !== undefined && !isPairs(v['bytesTo'])) return false;
  const bg = v['background'];
  if (v['byzantine'] !== undefined && !isStr(v['byzantine'], 64)) return false;
  if (bg !== undefined && !(Array.isArray(bg) && bg.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number')))) return false;
  // Collective phases of the step (timeline): [name, start, end].
  const ph = v['phases'];
  if (ph !== undefined && !(Array.isArray(ph) && ph.every((p) => Array.isArray(p) && p.length === 3 && isStr(p[0], 64) && typeof p[1] === 'number' && typeof p[2] === 'number'))) return false;
  // auto's all-reduces of the step (summary.json's collective): [entry time, bytes, collective].
  const co = v['collectives'];
  if (co !== undefined && !(Array.isArray(co) && co.length <= 65536 && co.every((p) => Array.isArray(p) && p.length === 3 && typeof p[0] === 'number' && isNat(p[1]) && typeof p[2] === 'string' && p[2] !== 'auto' && (COLLECTIVE_CHOICES as readonly string[]).includes(p[2])))) return false;
  // Messages sent in the step (timeline, trace.json): [to, bytes, send, arrival | null].
  const tr = v['transfers'];
  if (tr !== undefined && !(Array.isArray(tr) && tr.every((p) => Array.isArray(p) && p.length === 4 && isNat(p[0]) && isNat(p[1]) && typeof p[2] === 'number' && (p[3] === null || typeof p[3] === 'number')))) return false;
  return true;
}

/** A frame a worker process sent to the coordinator. */
export function parseToCoordinator(text: string): Parsed<ToCoordinator> {
  const p = parseJson(text);
  if (!p.ok) return p;
  const m = p.msg;
  const bad = (what: string): Parsed<ToCoordinator> => ({ ok: false, reason: `malformed '${String(m['t']).slice(0, 20)}' message (${what})` });
  switch (m['t']) {
    case 'hello':
      if (!isStr(m['token'], 256)) return bad('token');
      if (!isNat(m['pid']) || !isStr(m['host'], 255)) return bad('pid or host');
      if (m['replaces'] !== undefined && !isNat(m['replaces'])) return bad('replaces');
      if (m['process'] !== undefined && !isNat(m['process'])) return bad('process');
      break;
    case 'ready':
      if (!isStr(m['backend'], 64) || !isStr(m['peerUrl'], 512)) return bad('backend or peerUrl');
      if (m['device'] !== undefined && !isStr(m['device'], 200)) return bad('device');
      break;
    case 'report':
      if (!report(m['r'])) return bad('report fields');
      break;
    case 'done':
      break;
    case 'crash':
      if (!isNat(m['rank']) || !isNat(m['step']) || !isNat(m['bytesSent']) || !isNat(m['messagesSent']) || !isPairs(m['bytesTo'])) return bad('fields');
      if (m['bytesFrom'] !== undefined && !isPairs(m['bytesFrom'])) return bad('bytesFrom');
      break;
    case 'error':
      if (typeof m['message'] !== 'string') return bad('message');
      m['message'] = (m['message'] as string).slice(0, 2000).replace(/[\r\n]+/g, ' ');
      break;
    default:
      return { ok: false, reason: `unknown control message type '${String(m['t']).slice(0, 20)}'` };
  }
  return { ok: true, msg: m as unknown as ToCoordinator };
}

/** A frame the coordinator sent to a worker process (trusted more, but still checked for shape). */
export function parseToWorker(text: string): Parsed<ToWorker> {
  // `init` carries the whole resolved config; the socket's maxPayload bounds it.
  const p = parseJson(text, Infinity);
  if (!p.ok) return p;
  const m = p.msg;
  const bad = (what: string): Parsed<ToWorker> => ({ ok: false, reason: `malformed '${String(m['t']).slice(0, 20)}' message (${what})` });
  switch (m['t']) {
    case 'init':
      if (!Array.isArray(m['ranks']) || !m['ranks'].every(isNat) || !isNat(m['process'])) return bad('ranks or process');
      if (!isObj(m['lc']) || !isObj(m['lc']['config']) || !isObj(m['lc']['q'])) return bad('config');
      break;
    case 'start':
      if (typeof m['startedAt'] !== 'number' || !Array.isArray(m['peers'])) return bad('startedAt or peers');
      if (!m['peers'].every((e) => isObj(e) && isNat(e['process']) && Array.isArray(e['ranks']) && e['ranks'].every(isNat) && isStr(e['url'], 512))) return bad('peers');
      break;
    case 'stop':
      break;
    case 'refused':
      if (typeof m['reason'] !== 'string') return bad('reason');
      break;
    default:
      return { ok: false, reason: `unknown control message type '${String(m['t']).slice(0, 20)}'` };
  }
  return { ok: true, msg: m as unknown as ToWorker };
}

// The peer mesh's hello is the transport's (comm/transport/peer-hello.ts); re-exported for callers here.
export { parsePeerHello } from '../../comm/transport/peer-hello.ts';
