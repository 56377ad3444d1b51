import { closeSync, existsSync, mkdirSync, openSync, writeFileSync, writeSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { MetricsLine } from './aggregator.ts';

/**
 * The run directory contract (DESIGN.md): config.yaml, manifest.json, metrics.jsonl,
 * summary.json, plots/. metrics.jsonl is appended one whole line per write, so a run that dies
 * leaves every line written so far intact and parseable. JSON files are replaced atomically.
 */
export class RunDir {
  private fd: number;

  constructor(readonly path: string) {
    mkdirSync(join(path, 'plots'), { recursive: true });
    this.fd = openSync(join(path, 'metrics.jsonl'), 'w');
  }

  static freshPath(base: string, name: string): string {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
    let p = join(base, `${name}-${stamp}`);
    for (let i = 2; existsSync(p); i++) p = join(base, `${name}-${stamp}-${i}`);
    return p;
  }

  writeConfig(config: object): void {
    writeFileSync(join(this.path, 'config.yaml'), stringify(config));
  }

  writeJson(name: string, value: unknown): void {
    const tmp = join(this.path, `.${name}.tmp`);
    writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
    renameSync(tmp, join(this.path, name));
  }

  appendMetric(line: MetricsLine): void {
    writeSync(this.fd, JSON.stringify(line) + '\n');
  }

  close(): void {
    closeSync(this.fd);
  }
}
