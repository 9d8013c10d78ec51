// Graph: identities, the VMs and scale sets that carry them, and the hosts those run on.
import { type ReactNode, useCallback } from 'react';
import { instanceHosts, type Machine } from '../api/arm.js';
import { carries } from '../api/identity-patch.js';
import { Loading } from '../components/loading.js';
import { usePortal } from '../lib/context.js';
import { useLoad } from '../lib/hooks.js';
import { hostLabels, type Inventory, loadInventory } from '../lib/inventory.js';

interface Node {
  readonly key: string;
  readonly label: string;
  /** A host id no host has (the VM names a host that does not exist): drawn dashed. */
  readonly missing?: boolean;
}
interface Edge {
  readonly from: string;
  readonly to: string;
}

const COLUMN_X = [10, 340, 670] as const;
const COLUMN_KINDS = ['identity', 'machine', 'host'] as const;
const NODE_W = 220;
const NODE_H = 34;
const GAP = 50;
const TOP = 40;

/** The three columns and the lines between them. */
function build(
  inv: Inventory,
  placement: Map<string, string[]>,
): { columns: Node[][]; edges: Edge[] } {
  const identities: Node[] = [
    ...inv.identities.map((i) => ({ key: i.id, label: i.name })),
    ...inv.machines.flatMap((m) =>
      m.identity?.principalId === undefined
        ? []
        : [{ key: `system:${m.id}`, label: `${m.name} (system)` }],
    ),
  ];
  const machines: Node[] = inv.machines.map((m) => ({
    key: m.id,
    label: `${m.name}${m.kind === 'vmss' ? ' (scale set)' : ''}`,
  }));
  const hostIds = [...new Set([...placement.values()].flat())];
  const labels = hostLabels(inv, hostIds);
  const hosts: Node[] = hostIds.map((h) => ({
    key: `host:${h}`,
    label: labels.get(h) ?? h,
    missing: inv.hostsError === undefined && !inv.hosts.some((known) => known.id === h),
  }));
  const edges: Edge[] = [];
  for (const m of inv.machines) {
    if (m.identity?.principalId !== undefined) edges.push({ from: `system:${m.id}`, to: m.id });
    for (const i of inv.identities)
      if (carries(m.identity, i.id)) edges.push({ from: i.id, to: m.id });
    for (const h of placement.get(m.id) ?? []) edges.push({ from: m.id, to: `host:${h}` });
  }
  return { columns: [identities, machines, hosts], edges };
}

async function placements(
  http: Parameters<typeof instanceHosts>[0],
  machines: Machine[],
): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  await Promise.all(
    machines.map(async (m) => {
      const hosts =
        m.kind === 'vmss'
          ? await instanceHosts(http, m.id).catch(() => [])
          : m.properties?.tessera?.hostId === undefined
            ? []
            : [m.properties.tessera.hostId];
      map.set(m.id, [...new Set(hosts)]);
    }),
  );
  return map;
}

export function Graph(): ReactNode {
  const { http, subscriptionId } = usePortal();
  const load = useCallback(async () => {
    const inv = await loadInventory(http, subscriptionId);
    return { inv, placement: await placements(http, inv.machines) };
  }, [http, subscriptionId]);
  const { data, error } = useLoad(load);
  if (data === undefined) {
    return (
      <section aria-labelledby="page-title">
        <h1 id="page-title">Graph</h1>
        <Loading error={error} />
      </section>
    );
  }
  const { columns, edges } = build(data.inv, data.placement);
  const position = new Map<string, { x: number; y: number }>();
  columns.forEach((column, c) => {
    column.forEach((node, r) =>
      position.set(node.key, { x: COLUMN_X[c as 0 | 1 | 2], y: TOP + r * GAP }),
    );
  });
  const rows = Math.max(1, ...columns.map((c) => c.length));
  const height = TOP + rows * GAP;
  const names = new Map(columns.flat().map((n) => [n.key, n.label]));
  const targets = (key: string): string[] => edges.filter((e) => e.from === key).map((e) => e.to);
  /** `host local`: where a machine runs. */
  const where = (machine: string): string => {
    const hostsOf = targets(machine).map((h) => names.get(h) ?? h);
    return hostsOf.length === 0 ? 'no host' : `host ${hostsOf.join(', ')}`;
  };
  /** `demo-vm → host local`: a machine and where it runs. */
  const onward = (machine: string): string =>
    `${names.get(machine) ?? machine} → ${where(machine)}`;
  // Machines no identity points at still run somewhere: the list names their hosts too.
  const bare = (columns[1] ?? []).filter((m) => !edges.some((e) => e.to === m.key));
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">Graph</h1>
      <figure className="graph">
        <div className="graph-scroll">
          <svg
            viewBox={`0 0 900 ${String(height)}`}
            role="img"
            aria-labelledby="graph-title"
            aria-describedby="graph-text"
          >
            <title id="graph-title">
              Identities, the VMs and scale sets carrying them, and their hosts
            </title>
            {['Identities', 'VMs and scale sets', 'Hosts'].map((h, c) => (
              <text key={h} x={COLUMN_X[c as 0 | 1 | 2]} y={20} className="graph-heading">
                {h}
              </text>
            ))}
            {edges.map((e) => {
              const a = position.get(e.from);
              const b = position.get(e.to);
              if (a === undefined || b === undefined) return null;
              const x1 = a.x + NODE_W;
              const y1 = a.y + NODE_H / 2;
              const x2 = b.x;
              const y2 = b.y + NODE_H / 2;
              const mid = (x1 + x2) / 2;
              return (
                <path
                  key={`${e.from}>${e.to}`}
                  d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
                  className="graph-edge"
                />
              );
            })}
            {columns
              .flatMap((column, c) =>
                column.map((n) => ({ n, kind: COLUMN_KINDS[c as 0 | 1 | 2] })),
              )
              .map(({ n, kind }) => {
                const p = position.get(n.key);
                if (p === undefined) return null;
                return (
                  <g
                    key={n.key}
                    className={`graph-${kind}`}
                    transform={`translate(${String(p.x)},${String(p.y)})`}
                  >
                    <title>{n.label}</title>
                    <rect
                      width={NODE_W}
                      height={NODE_H}
                      rx={6}
                      className={n.missing === true ? 'graph-node missing' : 'graph-node'}
                    />
                    <text x={10} y={22}>
                      {n.label.length > 28 ? `${n.label.slice(0, 27)}…` : n.label}
                    </text>
                  </g>
                );
              })}
          </svg>
        </div>
        <figcaption id="graph-text">
          <h2>As a list</h2>
          <ul>
            {columns[0]?.map((identity) => (
              <li key={identity.key}>
                {identity.label} →{' '}
                {targets(identity.key).length === 0
                  ? 'attached to nothing'
                  : targets(identity.key).map(onward).join('; ')}
              </li>
            ))}
            {bare.map((m) => (
              <li key={m.key}>
                {m.label} (no identity) → {where(m.key)}
              </li>
            ))}
          </ul>
        </figcaption>
      </figure>
    </section>
  );
}
