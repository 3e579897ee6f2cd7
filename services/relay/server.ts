// The gRPC face of relay nodes: one server per process serves every virtual node it hosts
// (routed by publisher_id) and answers Ping through the emulated links. The server itself (health,
// TCP_NODELAY) is runtime/grpc.ts's.
import type * as grpc from '@grpc/grpc-js';
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import { RelayService, type PingRequest, type PingResponse, type SubscribeRequest } from '../gen/livepath/v1/relay.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import type { Clock } from '../core/clock.js';
import type { ServiceRegistrar } from '../runtime/grpc.js';
import { NodeNotHereError, type RelayError } from './errors.js';
import type { RelayNode } from './node.js';

export interface RelayServerComponents {
  link: LinkEmulator;
  clock: Clock;
  /** Looks up a hosted node by publisher_id; where a process hosts one node, see `onlyNode`. */
  node(id: string): RelayNode | undefined;
}

/** The lookup of a process that hosts one node: it answers to its id and to "" (no publisher named). */
export function onlyNode(node: RelayNode): (id: string) => RelayNode | undefined {
  return (id) => (id === '' || id === node.id ? node : undefined);
}

/** Adds the Relay service to `server`. Exposed separately so the tracker can share a server. */
export function addRelayService(server: ServiceRegistrar, c: RelayServerComponents): void {
  server.addService(RelayService, {
    subscribe(call: grpc.ServerWritableStream<SubscribeRequest, Chunk>) {
      const req = call.request;
      const node = c.node(req.publisherId);
      if (!node) {
        // emit('error') sends the status; grpc-js drops a status given to destroy().
        call.emit('error', toStatus(new NodeNotHereError(req.publisherId)));
        return;
      }
      const unsubscribe = node.subscribe(
        {
          childId: req.subscriberId,
          fromSeq: req.fromLive ? undefined : req.fromSeq,
          fromLive: req.fromLive,
          toSeq: req.toSeq > 0 ? req.toSeq - 1 : undefined, // the node's bound is inclusive
          priority: req.priority,
        },
        {
          write: (f) => call.write(f),
          onDrain: (cb) => call.on('drain', cb),
          fail: (e) => call.emit('error', toStatus(e)),
          end: () => call.end(),
        },
      );
      call.on('cancelled', unsubscribe);
      call.on('close', unsubscribe);
      call.on('error', unsubscribe);
    },
    ping(call: grpc.ServerUnaryCall<PingRequest, PingResponse>, callback: grpc.sendUnaryData<PingResponse>) {
      const req = call.request;
      const node = c.node(req.targetId);
      if (!node) {
        callback(toStatus(new NodeNotHereError(req.targetId)));
        return;
      }
      // The probe crosses the emulated link both ways, like a chunk would. The answer is sent at
      // once, stamped to leave when the probe arrives: timer lateness here is not RTT.
      const { intendedUs } = c.link.arrive(node.id, req.senderId, req.sentAtUs, 64, { kind: 'probe' });
      const answer = () =>
        callback(null, {
          responderId: node.id,
          pingSentAtUs: req.sentAtUs,
          sentAtUs: c.link.depart(node.id, 64, intendedUs),
          delayMs: node.delayMs,
        });
      // delay-only: the answer crosses the kernel after the probe's latency, as a chunk would.
      if (c.link.sendsOnArrival) c.link.at(intendedUs, answer, 'probe');
      else answer();
    },
  });
}

/** A relay failure as the error grpc-js sends as the call's status. */
export function toStatus(e: RelayError): grpc.ServerErrorResponse {
  return Object.assign(new Error(e.message), { code: e.code, details: e.message });
}
