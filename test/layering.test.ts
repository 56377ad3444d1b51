import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.ts';

/**
 * The dependency direction of docs/ARCHITECTURE.md, read from the sources: comm/ (transports
 * included) imports nothing of ours outside comm/ and never tfjs; topologies/ and src/sim/ do no
 * I/O and read no clock. A file that breaks a rule is named with the import that does.
 */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"\n;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

describe('layering', () => {
  it('comm/ imports only comm/, node: built-ins and npm packages other than tfjs', () => {
    const comm = join(ROOT, 'comm');
    const files = tsFiles(comm);
    expect(files.some((f) => f.includes(`${join('comm', 'transport')}`))).toBe(true);
    const bad: string[] = [];
    for (const f of files) {
      for (const spec of imports(f)) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(f), spec);
          if (relative(comm, target).startsWith('..')) bad.push(`${relative(ROOT, f)} imports ${spec}`);
        } else if (spec.startsWith('@tensorflow/')) bad.push(`${relative(ROOT, f)} imports ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('topologies/ and src/sim/ are pure: no file system, network, processes or wall clock', () => {
    const bad: string[] = [];
    for (const dir of ['topologies', join('src', 'sim')]) {
      for (const f of tsFiles(join(ROOT, dir))) {
        const src = readFileSync(f, 'utf8');
        for (const spec of imports(f)) if (/^(node:)?(fs|net|http|https|child_process|worker_threads|dgram)(\/|$)/.test(spec)) bad.push(`${relative(ROOT, f)} imports ${spec}`);
        if (/\bDate\.now\(|performance\.now\(|new Date\(/.test(src.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, ''))) bad.push(`${relative(ROOT, f)} reads the wall clock`);
      }
    }
    expect(bad).toEqual([]);
  });
});
