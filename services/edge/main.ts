// `livepath edge`: a CDN edge — a relay node subscribed to the origin (or a parent edge) that
// fans chunks out to viewers.
import { ClientPool, ParentLink } from '../relay/client.js';
import { RelayNode } from '../relay/node.js';
import { processIntegrity } from '../relay/integrity.js';
import { addRelayService, onlyNode } from '../relay/server.js';
import { startServer } from '../runtime/grpc.js';
import { createShell, type ShellOptions } from '../runtime/shell.js';
import { movedWithin, stallMs, watchReadiness } from '../runtime/readiness.js';
import { lookupAddress, type Directory } from '../runtime/directory.js';

export interface EdgeOptions extends ShellOptions {
  node: string;
  listen: string;
  directory: Directory;
}

export async function runEdge(o: EdgeOptions): Promise<void> {
  const shell = createShell(o, 'edge');
  const { plan, clock, link, log } = shell;
  const edgePlan = plan.edges.find((e) => e.id === o.node);
  if (!edgePlan)
    throw new UnknownEdgeError(
      o.node,
      plan.edges.map((e) => e.id),
    );
  const integrity = processIntegrity(o.originKey, clock.nowUs, shell.integrityCounters);
  if (!integrity.verifier.publicKey) log.warn({}, 'no --origin-key: fragments are forwarded unverified');
  const node = new RelayNode({ id: o.node, role: 'edge' }, { link, ...integrity });
  const pool = new ClientPool();
  const parent = new ParentLink(
    { streamId: plan.stream.streamId, fromLive: true },
    {
      node,
      link,
      clock,
      pool,
      onParentLost: (p, e) => log.warn({ parent: p.id, err: e.message }, 'parent stream lost; resuming'),
    },
  );
  const server = await startServer(o.listen, (s) => addRelayService(s, { link, clock, node: onlyNode(node) }));
  shell.onStop(() => server.stop());
  shell.onStop(() => pool.close());
  shell.onStop(() => parent.stop());
  parent.attach({ id: edgePlan.parentId, address: lookupAddress(o.directory, edgePlan.parentId) });
  log.info({ address: server.address, parent: edgePlan.parentId }, 'edge ready');
  // Ready while chunks arrive from the parent: a Service sends viewers only to an edge that has them.
  const receiving = movedWithin(stallMs(plan), () => node.newest);
  shell.onStop(
    watchReadiness({
      server,
      log,
      check: () => (receiving() ? undefined : `no chunk from parent "${edgePlan.parentId}" lately`),
    }),
  );
  shell.metrics.sampleOnScrape({ relays: () => [node] });
  await shell.ready(server.address);
}

export class UnknownEdgeError extends Error {
  constructor(id: string, known: string[]) {
    super(`edge "${id}" is not in the scenario; its edges are: ${known.join(', ')}`);
  }
}
