// The gRPC face of relay nodes: one server per process serves every virtual node it hosts
// (routed by publisher_id), answers Ping through the emulated links, and speaks grpc.health.v1.
import type { Server as NetServer, Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import { RelayService, type PingRequest, type PingResponse, type SubscribeRequest } from '../gen/livepath/v1/relay.js';
import type { LinkEmulator } from '../linkemu/emulator.js';
import type { Clock } from '../runtime/clock.js';
import { NodeNotHereError, PortInUseError, type RelayError } from './errors.js';
import type { RelayNode } from './node.js';

export interface RelayServerComponents {
  link: LinkEmulator;
  clock: Clock;
  /** Looks up a hosted node; `undefined` id means "the only node here". */
  node(id: string): RelayNode | undefined;
}

/**
 * grpc.health.v1 as a pod's probes read it. The overall status ("", what a readiness probe and
 * grpc_health_probe ask by default) is SERVING only while the service streams (see setReady);
 * the gRPC service names are SERVING while the process answers, which is what liveness asks.
 */
export const READINESS_SERVICE = '';
export const LIVENESS_SERVICES = { relay: 'livepath.v1.Relay', tracker: 'livepath.v1.Tracker' } as const;

export interface ServerHandle {
  server: grpc.Server;
  health: HealthImplementation;
  port: number;
  address: string;
  /** Readiness: the overall health status (NOT_SERVING from the start until set). */
  setReady(ready: boolean): void;
  stop(): Promise<void>;
}

/** Adds the Relay service to `server`. Exposed separately so the tracker can share a server. */
export function addRelayService(server: grpc.Server, c: RelayServerComponents): void {
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
      callback(null, {
        responderId: node.id,
        pingSentAtUs: req.sentAtUs,
        sentAtUs: c.link.depart(node.id, 64, intendedUs),
        delayMs: node.delayMs,
      });
    },
  });
}

export async function startServer(listen: string, add: (server: grpc.Server) => void): Promise<ServerHandle> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  const health = new HealthImplementation({
    [READINESS_SERVICE]: 'NOT_SERVING',
    [LIVENESS_SERVICES.relay]: 'SERVING',
    [LIVENESS_SERVICES.tracker]: 'SERVING',
  });
  health.addToServer(server);
  add(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (err, p) => {
      if (err) reject(/in use|EADDRINUSE|No address added/i.test(err.message) ? new PortInUseError(listen) : err);
      else resolve(p);
    });
  });
  disableNagle(server);
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return {
    server,
    health,
    port,
    address: `${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    setReady: (ready) => health.setStatus(READINESS_SERVICE, ready ? 'SERVING' : 'NOT_SERVING'),
    stop: () =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1_000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}

/**
 * grpc-js disables Nagle's algorithm on client sockets but not on accepted ones, and a server
 * stream of fragments then waits for delayed ACKs (≈40 ms on Linux) — an error larger than any
 * link we emulate. grpc-js offers no option for it, so reach its listening servers (a private
 * field, checked) and set TCP_NODELAY on each accepted connection.
 */
function disableNagle(server: grpc.Server): void {
  const listeners = (server as unknown as { http2Servers?: Map<NetServer, unknown> }).http2Servers;
  if (!(listeners instanceof Map))
    throw new Error(
      'grpc-js internals changed: cannot set TCP_NODELAY on server sockets (update services/relay/server.ts)',
    );
  for (const l of listeners.keys()) l.on('connection', (socket: Socket) => socket.setNoDelay(true));
}

/** A relay failure as the error grpc-js sends as the call's status. */
export function toStatus(e: RelayError): grpc.ServerErrorResponse {
  return Object.assign(new Error(e.message), { code: e.code, details: e.message });
}
