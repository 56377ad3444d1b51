/** Numbers for people: units and a precision that fits the quantity (report.html, tables). */

/** Bits as bit/kbit/Mbit/Gbit with 3 significant digits, and bytes in brackets. */
export function fmtBits(bits: number): string {
  if (!Number.isFinite(bits)) return 'n/a';
  if (bits === 0) return '0 bit';
  const units: [number, string, string][] = [
    [1e9, 'Gbit', 'GB'],
    [1e6, 'Mbit', 'MB'],
    [1e3, 'kbit', 'kB'],
  ];
  const [scale, unit, byteUnit] = units.find(([s]) => Math.abs(bits) >= s) ?? [1, 'bit', 'B'];
  return `${(bits / scale).toPrecision(3)} ${unit} (${(bits / 8 / scale).toPrecision(3)} ${byteUnit})`;
}

export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return 'n/a';
  if (s !== 0 && Math.abs(s) < 1e-3) return `${(s * 1e6).toPrecision(3)} µs`;
  if (Math.abs(s) < 1) return `${(s * 1e3).toPrecision(3)} ms`;
  return `${s.toFixed(s < 100 ? 3 : 1)} s`;
}

/** A value of summary.json / sweep.csv by its key's name: accuracy %, loss, bits, seconds. */
export function fmtByKey(key: string, v: unknown): string {
  if (v === null || v === undefined || v === '') return '–';
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null;
  if (n === null) return typeof v === 'object' ? JSON.stringify(v) : String(v);
  const k = key.toLowerCase();
  if (k.includes('accuracy')) return `${(100 * n).toFixed(2)} %`;
  if (k.includes('bits')) return fmtBits(n);
  if (k.endsWith('sec') || k.endsWith('simsec')) return fmtSeconds(n);
  if (k.includes('loss')) return n.toFixed(4);
  return Number.isInteger(n) ? String(n) : n.toPrecision(4);
}

/** Column titles with their units. */
export const KEY_TITLES: Record<string, string> = {
  finalAccuracy: 'final test accuracy',
  finalLoss: 'final test loss',
  totalBits: 'bits sent (total)',
  uplinkBits: 'uplink bits',
  downlinkBits: 'downlink bits',
  peakStepBits: 'peak bits in one step',
  simTimeSec: 'simulated time',
  wallTimeSec: 'wall time',
  timeToTargetSimSec: 'time to target (simulated)',
  timeToTargetBits: 'bits to target',
  steps: 'steps',
};
