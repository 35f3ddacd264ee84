/**
 * Heap snapshots (V8's .heapsnapshot JSON) summarized by object kind: count and self size per
 * (node type, name), with strings grouped by shape (a JWT, a 24-hex id, other), so a diff of
 * two snapshots divided by the sockets between them says what each socket costs, kind by kind.
 */
import { readFileSync } from 'node:fs';

export interface KindSummary {
  count: number;
  bytes: number;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const STRING_TYPES = new Set(['string', 'concatenated string', 'sliced string']);

function stringShape(s: string): string {
  if (s.startsWith('eyJ') && s.split('.').length === 3) return 'a JWT';
  if (/^[0-9a-f]{24}$/.test(s)) return 'a 24-hex id';
  return 'other';
}

export function summarizeSnapshot(file: string): Map<string, KindSummary> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const iEdges = fields.indexOf('edge_count');
  const efields = snap.snapshot.meta.edge_fields;
  const etypes = snap.snapshot.meta.edge_types[0];
  const estride = efields.length;
  const eType = efields.indexOf('type');
  const eName = efields.indexOf('name_or_index');
  const eTo = efields.indexOf('to_node');
  // Each node's first retainer (other than a weak or shortcut edge): "retainer type: name .edge".
  const retainer = new Map<number, string>();
  const nodeLabel = (i: number) => `${types[snap.nodes[i + iType]!]}: ${snap.strings[snap.nodes[i + iName]!]!.slice(0, 40)}`;
  for (let i = 0, e = 0; i < snap.nodes.length; i += stride) {
    const n = snap.nodes[i + iEdges]!;
    for (let k = 0; k < n; k++, e += estride) {
      const et = etypes[snap.edges[e + eType]!]!;
      if (et === 'weak' || et === 'shortcut') continue;
      const to = snap.edges[e + eTo]!;
      if (retainer.has(to)) continue;
      const en = et === 'element' || et === 'hidden' ? `[${snap.edges[e + eName]}]` : `.${snap.strings[snap.edges[e + eName]!]}`;
      retainer.set(to, `${nodeLabel(i)} ${et === 'element' || et === 'hidden' ? '[]' : en}`);
    }
  }
  const out = new Map<string, KindSummary>();
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + iType]!]!;
    const name = snap.strings[snap.nodes[i + iName]!]!;
    const kind = STRING_TYPES.has(type) ? `${type}: ${stringShape(name)}` : `${type}: ${name.slice(0, 40)}`;
    const key = `${kind}  ← ${retainer.get(i) ?? '?'}`;
    const k = out.get(key) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += snap.nodes[i + iSize]!;
    out.set(key, k);
  }
  return out;
}

/** Lines "bytes/socket  count/socket  kind", largest first, kinds under 2 bytes per socket left out (summed at the end). */
export function diffSnapshots(a: Map<string, KindSummary>, b: Map<string, KindSummary>, sockets: number): string[] {
  const rows: Array<{ key: string; bytes: number; count: number }> = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key) ?? { count: 0, bytes: 0 };
    const y = b.get(key) ?? { count: 0, bytes: 0 };
    rows.push({ key, bytes: (y.bytes - x.bytes) / sockets, count: (y.count - x.count) / sockets });
  }
  rows.sort((p, q) => Math.abs(q.bytes) - Math.abs(p.bytes));
  const total = rows.reduce((s, r) => s + r.bytes, 0);
  const shown = rows.filter((r) => Math.abs(r.bytes) >= 2);
  const rest = total - shown.reduce((s, r) => s + r.bytes, 0);
  return [
    ...shown.map((r) => `${r.bytes.toFixed(1).padStart(8)} B  ${r.count.toFixed(2).padStart(6)} ×  ${r.key}`),
    `${rest.toFixed(1).padStart(8)} B          (everything smaller)`,
    `${total.toFixed(1).padStart(8)} B          total self size per socket`,
  ];
}
