import type { Link } from './topology.ts';

/** Directed links by id, created once; the order of creation is the order of `links`. */
export class LinkSet {
  private readonly byId = new Map<string, Link>();

  add(id: string, bandwidth: number, latency: number, shared = false): Link {
    let l = this.byId.get(id);
    if (!l) {
      l = { id, bandwidth, latency, shared };
      this.byId.set(id, l);
    }
    return l;
  }

  get(id: string): Link {
    const l = this.byId.get(id);
    if (!l) throw new Error(`no link ${id}`);
    return l;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  all(): Link[] {
    return [...this.byId.values()];
  }
}
