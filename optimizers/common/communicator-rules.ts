import { checkCompressorSpec } from '../../comm/compress/factory.ts';
import { isPluginSpec, type ConfiguredCompressor, type ExchangeConfig, type PluginSpec } from '../../comm/communicator.ts';
import type { RuleContext } from '../algorithm.ts';

/** A built-in compressor spec (bucket or perTensor, and its kind's own options), failing at optimizer.compressor. */
export function builtInCompressorRules(c: Exclude<ConfiguredCompressor, PluginSpec>, ctx: RuleContext): void {
  try {
    const { bucket, ...spec } = c;
    if (bucket !== undefined && spec.perTensor) throw new Error('bucket and perTensor exclude each other');
    checkCompressorSpec(spec);
  } catch (e) {
    ctx.fail('optimizer.compressor', `expected a valid compressor: ${(e as Error).message}`);
  }
}

/** The rules of the communicator's keys (compressor, error feedback, aggregation path). */
export function communicatorRules(o: ExchangeConfig, ctx: RuleContext): void {
  const c = o.compressor;
  if (isPluginSpec(c)) {
    // A plugin's options were validated against its own schema; its bytes are all-gathered.
    if (o.aggregation === 'ring') ctx.fail('optimizer.aggregation', 'expected allgather or ps for a compressor module (ring needs a dense built-in compressor), found ring');
    if (o.aggregation === 'ps' && ctx.topology !== 'star') ctx.fail('optimizer.aggregation', `expected topology star for ps aggregation, found topology ${ctx.topology}`);
    return;
  }
  builtInCompressorRules(c, ctx);
  const dense = ['none', 'fp16', 'bf16'].includes(c.kind);
  if (o.aggregation === 'ring' && !dense) ctx.fail('optimizer.aggregation', `expected allgather or ps for compressor ${c.kind} (ring needs a dense compressor: none, fp16, bf16), found ring`);
  if (o.aggregation === 'ps' && ctx.topology !== 'star') ctx.fail('optimizer.aggregation', `expected topology star for ps aggregation, found topology ${ctx.topology}`);
  if (o.errorFeedback === 'ef21' && o.aggregation !== 'allgather' && !(o.aggregation === 'auto' && !dense && ctx.topology !== 'star')) {
    ctx.fail('optimizer.errorFeedback', 'expected ef or none unless payloads are all-gathered (ef21 keeps a receiver on every worker); set aggregation: allgather');
  }
}
