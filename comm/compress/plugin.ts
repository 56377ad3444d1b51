/**
 * Compressors from user modules (`compressor: { module: ./my-compressor.ts, ...options }`). The
 * module's default export is made with `defineCompressor`; it builds a Compressor (encode to
 * bytes, decode, decodeAdd) from its options, so bits are still counted from its bytes. The
 * config layer imports the module and registers it here under its absolute path; comm/ only
 * keeps the table (it imports nothing of ours).
 */
import type { Compressor } from './compressor.ts';

export interface CompressorPlugin<O extends Record<string, unknown> = Record<string, unknown>> {
  /** Shown in logs and errors. */
  readonly name: string;
  /** JSON Schema properties of its options (with defaults), validated like built-in keys. */
  readonly options?: Record<string, Record<string, unknown>>;
  /** A fresh compressor (one per worker, per vector) for the validated options. */
  create(options: O): Compressor;
}

export function defineCompressor<O extends Record<string, unknown>>(p: CompressorPlugin<O>): CompressorPlugin<O> {
  return p;
}

const plugins = new Map<string, CompressorPlugin>();

export function registerCompressorPlugin(module: string, p: CompressorPlugin): void {
  plugins.set(module, p);
}

/** The compressor of a plugin spec `{ module, ...options }` (the module must be registered). */
export function createPluginCompressor(spec: { module: string } & Record<string, unknown>): Compressor {
  const p = plugins.get(spec.module);
  if (!p) throw new Error(`compressor module ${spec.module} was not loaded`);
  const { module: _m, ...options } = spec;
  return p.create(options);
}
