// Prints the experiment reference (every key, type, default, description) as Markdown, from the
// schema itself so the docs cannot drift: node --import tsx scripts/config-reference.ts
import { experimentSchema, optimizerSchemaFor } from '../src/config/schema.ts';
import { builtInAlgorithms } from '../optimizers/registry.ts';

type S = Record<string, unknown>;
const rows: string[] = [];
function typeOf(s: S): string {
  if (s['enum']) return (s['enum'] as string[]).map((e) => `\`${e}\``).join(' \\| ');
  if (s['x-quantity']) return `${String(s['x-quantity'])} (string with units)`;
  if (s['type'] === 'array') return `list of ${typeOf(s['items'] as S)}`;
  return String(s['type'] ?? '');
}
function walk(s: S, path: string): void {
  const props = s['properties'] as Record<string, S> | undefined;
  if (!props) return;
  const required = new Set((s['required'] as string[] | undefined) ?? []);
  for (const [k, v] of Object.entries(props)) {
    const p = path ? `${path}.${k}` : k;
    const isObj = v['type'] === 'object';
    if (!isObj) {
      const def = v['default'] !== undefined ? `\`${JSON.stringify(v['default'])}\`` : required.has(k) ? '**required**' : '—';
      rows.push(`| \`${p}\` | ${typeOf(v)} | ${def} | ${String(v['description'] ?? '')} |`);
    } else if (v['description']) {
      rows.push(`| \`${p}\` | mapping | | ${String(v['description'])} |`);
    }
    if (isObj) walk(v, p);
    if (v['type'] === 'array' && (v['items'] as S)['type'] === 'object') walk(v['items'] as S, `${p}[]`);
  }
}
walk(experimentSchema as unknown as S, '');
// One table per algorithm: only the chosen algorithm's keys apply (others are rejected).
const perAlgorithm: string[] = [];
for (const a of builtInAlgorithms()) {
  rows.length = 0;
  walk({ properties: { optimizer: optimizerSchemaFor(a) } } as S, '');
  perAlgorithm.push(`### \`optimizer.kind: ${a.kind}\`

${a.description}

| key | type | default | meaning |
|---|---|---|---|
${rows.filter((r) => !r.startsWith('| `optimizer` |') && !r.startsWith('| `optimizer.kind` |')).join('\n')}
`);
}
rows.length = 0;
walk(experimentSchema as unknown as S, '');
process.stdout.write(`# Experiment reference

Generated from \`src/config/schema.ts\` by \`node --import tsx scripts/config-reference.ts\`.
Quantities take units through mathjs: bandwidth in b/s or B/s with SI prefixes (\`1 Gb/s\`,
\`100 MB/s\`), times in s/ms/us/ns, compute speed in FLOP/s (\`1 TFLOP/s\`). Unknown keys are
rejected with a suggestion; every default below is written into the run's \`config.yaml\`.

| key | type | default | meaning |
|---|---|---|---|
${rows.join('\n')}

## Algorithms

\`optimizer.kind\` picks the algorithm; only its own keys below apply, a key of another
algorithm is rejected naming the ones that do, and \`config.yaml\` holds exactly these keys
with their defaults. Each default is the algorithm's reference (stated in its
\`optimizers/<kind>/index.ts\`).

${perAlgorithm.join('\n')}`);
