// gRPC as every service process sets it up: a server that speaks grpc.health.v1 and sends each
// message at once (TCP_NODELAY on accepted sockets), and clients with the same limits, one
// channel per address shared by every virtual node of the process.
import type { Server as NetServer, Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { RelayService } from '../gen/livepath/v1/relay.js';
import { TrackerService } from '../gen/livepath/v1/tracker.js';
import { CLIENT_KEEPALIVE_MS, MAX_MESSAGE_BYTES } from './constants.js';

/**
 * grpc.health.v1 as a pod's probes read it. The overall status ("", what a readiness probe and
 * grpc_health_probe ask by default) is SERVING only while the service streams (see setReady);
 * each gRPC service the server carries is SERVING while the process answers, which is what
 * liveness asks.
 */
export const READINESS_SERVICE = '';
export const LIVENESS_SERVICES = {
  relay: serviceName(RelayService),
  tracker: serviceName(TrackerService),
} as const;

export class PortInUseError extends Error {
  constructor(readonly address: string) {
    super(
      `cannot listen on ${address}: the port is in use — pick a free port (or port 0 for any free one) with --listen`,
    );
  }
}

/** What a service needs of a server to add itself to it. */
export type ServiceRegistrar = Pick<grpc.Server, 'addService'>;

export interface ServerHandle {
  server: grpc.Server;
  health: HealthImplementation;
  port: number;
  address: string;
  /** Readiness: the overall health status (NOT_SERVING from the start until set). */
  setReady(ready: boolean): void;
  stop(): Promise<void>;
}

/** Starts a server on `listen` (host:port, port 0 = any free port) carrying what `add` adds. */
export async function startServer(listen: string, add: (server: ServiceRegistrar) => void): Promise<ServerHandle> {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES });
  const health = new HealthImplementation({ [READINESS_SERVICE]: 'NOT_SERVING' });
  health.addToServer(server);
  add({
    addService: (service, implementation) => {
      server.addService(service, implementation);
      health.setStatus(serviceName(service), 'SERVING');
    },
  });
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
      'grpc-js internals changed: cannot set TCP_NODELAY on server sockets (update services/runtime/grpc.ts)',
    );
  for (const l of listeners.keys()) l.on('connection', (socket: Socket) => socket.setNoDelay(true));
}

/** "livepath.v1.Relay" of a generated service definition (its methods' paths are /<service>/<method>). */
function serviceName(service: grpc.ServiceDefinition): string {
  const path = Object.values(service)[0]?.path ?? '';
  return path.slice(1, path.lastIndexOf('/'));
}

// ---- clients --------------------------------------------------------------------------------

/** A generated client class (RelayClient, TrackerClient). */
export type ClientConstructor<C extends grpc.Client> = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: Partial<grpc.ChannelOptions>,
) => C;

/** A client of `address` with the limits every process uses, plus `options`. */
export function createClient<C extends grpc.Client>(
  Client: ClientConstructor<C>,
  address: string,
  options: Partial<grpc.ChannelOptions> = {},
): C {
  return new Client(address, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.keepalive_time_ms': CLIENT_KEEPALIVE_MS,
    ...options,
  });
}

/** One client per address, shared by every virtual node of a process. */
export class GrpcClientPool<C extends grpc.Client> {
  private readonly clients = new Map<string, C>();

  constructor(
    private readonly Client: ClientConstructor<C>,
    private readonly options: Partial<grpc.ChannelOptions> = {},
  ) {}

  get(address: string): C {
    let c = this.clients.get(address);
    if (!c) {
      c = createClient(this.Client, address, this.options);
      this.clients.set(address, c);
    }
    return c;
  }

  /** Resolves once the connection to `address` is up (so a first message pays no setup). */
  ready(address: string, timeoutMs: number): Promise<boolean> {
    const client = this.get(address);
    return new Promise((resolve) => client.waitForReady(Date.now() + timeoutMs, (err) => resolve(!err)));
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
