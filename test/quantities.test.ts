import { describe, expect, it } from 'vitest';
import { parseQuantity } from '../src/config/quantities.ts';

// Units are parsed by mathjs (its single-file bundle, loaded on first use); these pin the
// strings users write to the SI numbers the model uses.
describe('quantities', () => {
  it.each([
    ['bandwidth', '1 Gb/s', 1e9],
    ['bandwidth', '100 MB/s', 8e8],
    ['bandwidth', '0.5 Mb/s', 5e5],
    ['bandwidth', '1Gb/s', 1e9],
    ['bandwidth', '1 Gb / s', 1e9],
    ['bandwidth', '1 GiB/s', 8589934592],
    ['bandwidth', '1 gigabit/s', 1e9],
    ['bandwidth', '1 B/ms', 8000],
    ['bandwidth', '1e9 b/s', 1e9],
    ['time', '50 us', 5e-5],
    ['time', '5 µs', 5e-6],
    ['time', '0 s', 0],
    ['time', '2 min', 120],
    ['time', '1 h', 3600],
    ['time', '3 seconds', 3],
    ['time', '1 millisecond', 0.001],
    ['time', '100 ns', 1e-7],
    ['time', '.5 s', 0.5],
    ['flops', '1 TFLOP/s', 1e12],
    ['flops', '10 GFLOPs/s', 1e10],
    ['flops', '1 Gflop/s', 1e9],
    ['flops', '1 TFLOP/ms', 1e15],
  ] as const)('%s %s = %d', (kind, raw, value) => {
    expect(parseQuantity(kind, raw)).toBe(value);
  });

  it.each([
    ['bandwidth', '10 ms', /wrong units/],
    ['bandwidth', '1 TFLOP/s', /wrong units/],
    ['time', '5', /wrong units/],
    ['flops', '1 TFLOP', /wrong units/],
    ['bandwidth', '-1 Gb/s', /non-negative/],
    ['bandwidth', '0 b/s', /positive/],
    ['bandwidth', '1 Gbps', /expected a bandwidth with units like .*found "1 Gbps"$/],
    ['time', 'soon', /expected a time with units/],
    ['time', '1 s/s/s', /expected a time with units/],
  ] as const)('%s %s is refused', (kind, raw, msg) => {
    const r = parseQuantity(kind, raw);
    expect(typeof r).toBe('string');
    expect(r).toMatch(msg);
  });
});
