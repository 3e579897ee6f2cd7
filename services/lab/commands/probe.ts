// `livepath probe`: is this node relaying the stream? Subscribes from the live edge to one or more
// nodes of a Relay server and answers as soon as a chunk fragment arrives. The chart's `helm test`
// pod runs it against peer host 0; it is also a quick check by hand against any origin or edge.
import * as grpc from '@grpc/grpc-js';
import { type Command, Option } from 'commander';
import type { Chunk } from '../../gen/livepath/v1/chunk.js';
import { ClientPool } from '../../relay/client.js';
import { loadPlan } from '../../runtime/plan.js';
import { positiveInt, resolveScenario } from './common.js';
import { selectViewers } from '../../core/viewer-hosts.js';

export interface ProbeOptions {
  address: string;
  /** node ids to subscribe to; [] or [''] = the only node of the process (origin, edge) */
  nodes: string[];
  seconds: number;
  /** subscriber id the relay sees (its linkemu child); any id works, the plan need not know it */
  subscriberId?: string;
}

export interface ProbeResult {
  ok: boolean;
  /** one line for the user */
  message: string;
  /** the node the first fragment came from, and that fragment */
  node?: string;
  seq?: number;
}

/** The viewers a peers host serves: the same slice `livepath peers --viewer-index` picks. */
export function probeNodesFromScenario(scenario: string, viewerIndex: number, viewersPerHost?: number): string[] {
  const plan = loadPlan(scenario);
  return selectViewers(plan.viewers, { viewerIndex, viewersPerHost }).map((v) => v.id);
}

export async function runProbe(o: ProbeOptions): Promise<ProbeResult> {
  const nodes = o.nodes.length > 0 ? o.nodes : [''];
  const label = (n: string) => (n ? `node "${n}" at ${o.address}` : o.address);
  const pool = new ClientPool();
  const calls: grpc.ClientReadableStream<Chunk>[] = [];
  // The last failure of each node: if none delivers, the most telling one is reported.
  const failures = new Map<string, grpc.ServiceError>();
  try {
    return await new Promise<ProbeResult>((resolve) => {
      const timer = setTimeout(() => {
        const errors = [...failures.values()];
        const unreachable = errors.find(
          (e) => e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED,
        );
        if (errors.length === nodes.length && unreachable) {
          resolve({
            ok: false,
            message: `cannot reach ${o.address}: ${unreachable.details || unreachable.message} (is the pod running and the port its relay port?)`,
          });
        } else if (errors.length === nodes.length && errors.every((e) => e.code === grpc.status.NOT_FOUND)) {
          resolve({
            ok: false,
            message: `${o.address} serves none of ${nodes.map((n) => `"${n}"`).join(', ')}: pass the id of a node it hosts with --node (a peers host needs a viewer id, or --scenario with --viewer-index)`,
          });
        } else {
          const which = nodes.length === 1 ? label(nodes[0]!) : `${nodes.length} nodes at ${o.address}`;
          const last = errors.at(-1);
          resolve({
            ok: false,
            message: `no chunk fragment from ${which} within ${o.seconds} s${last ? ` (last error: ${last.details || last.message})` : ` (connected, but nothing arrived: has the broadcast started?${nodes.length === 1 && !nodes[0] ? ' A peers host answers only for the viewers it hosts: pass --node or --scenario' : ''})`}`,
          });
        }
      }, o.seconds * 1000);
      const deadline = Date.now() + o.seconds * 1000;
      const subscribe = (node: string) => {
        if (Date.now() >= deadline) return;
        const call = pool.get(o.address).subscribe({
          streamId: '',
          subscriberId: o.subscriberId ?? `probe-${process.pid}`,
          publisherId: node,
          fromSeq: 0,
          fromLive: true,
          toSeq: 0,
          priority: 0,
        });
        calls.push(call);
        call.on('data', (f: Chunk) => {
          clearTimeout(timer);
          resolve({
            ok: true,
            node,
            seq: f.seq,
            message: `ok: ${label(node)} relays chunk ${f.seq} (fragment at byte ${f.offset})`,
          });
        });
        call.on('error', (e: grpc.ServiceError) => {
          if (e.code === grpc.status.CANCELLED) return;
          failures.set(node, e);
          // A viewer that has not joined yet, or a parent still starting: ask again shortly.
          setTimeout(() => subscribe(node), 500).unref();
        });
      };
      nodes.forEach(subscribe);
    });
  } finally {
    for (const c of calls) {
      c.removeAllListeners('data');
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      c.cancel();
    }
    pool.close();
  }
}

export function register(program: Command): void {
  program
    .command('probe')
    .description(
      "check a node relays the stream: exit 0 once a chunk fragment arrives, 1 after --seconds (the chart's helm test)",
    )
    .requiredOption('--address <host:port>', 'Relay (gRPC) address of an origin, edge or peers host')
    .option('--node <ids>', 'node id(s) to subscribe to, comma-separated (default: the only node of an origin or edge)')
    .addOption(
      new Option('--scenario <file>', 'peers host: probe the viewers of slice --viewer-index of this scenario').env(
        'LIVEPATH_SCENARIO',
      ),
    )
    .option('--viewer-index <n>', 'with --scenario: the slice the host serves', positiveInt('--viewer-index'), 0)
    .addOption(
      new Option('--viewers-per-host <n>', 'with --scenario: size of a slice')
        .argParser(positiveInt('--viewers-per-host'))
        .env('LIVEPATH_VIEWERS_PER_HOST'),
    )
    .addOption(
      new Option('--seconds <n>', 'how long to wait for a fragment')
        .argParser(positiveInt('--seconds'))
        .default(10)
        .env('LIVEPATH_PROBE_SECONDS'),
    )
    .action(
      async (o: {
        address: string;
        node?: string;
        scenario?: string;
        viewerIndex: number;
        viewersPerHost?: number;
        seconds: number;
      }) => {
        const nodes = o.node
          ? o.node.split(',').filter(Boolean)
          : o.scenario
            ? probeNodesFromScenario(resolveScenario(o.scenario), o.viewerIndex, o.viewersPerHost)
            : [];
        const r = await runProbe({ address: o.address, nodes, seconds: o.seconds });
        (r.ok ? process.stdout : process.stderr).write(`livepath probe: ${r.message}\n`);
        process.exit(r.ok ? 0 : 1);
      },
    );
}
