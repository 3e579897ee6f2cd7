// Relay overhead per hop: the same fragments (16 KB, 5 Mbit/s, fan-out 8, real bytes) delivered
// by a bare grpc-js server stream, and by that stream plus one livepath relay hop (an edge that
// subscribes and forwards to 8 children). Both run side by side in this process, on loopback,
// with link emulation off, so the difference is what the relay itself adds.
import * as grpc from '@grpc/grpc-js';
import type { Chunk } from '../services/gen/livepath/v1/chunk.js';
import { RelayService, type SubscribeRequest } from '../services/gen/livepath/v1/relay.js';
import { Recorder } from '../services/core/stats.js';
import { systemClock } from '../services/runtime/clock.js';
import { LinkEmulator } from '../services/linkemu/emulator.js';
import { RelayNode } from '../services/relay/node.js';
import { ClientPool, ParentLink } from '../services/relay/client.js';
import { addRelayService } from '../services/relay/server.js';
import { startServer } from '../services/runtime/grpc.js';
import { fakePlan } from '../test/helpers/fake-plan.js';

const FRAGMENT_BYTES = 16_384;
const BITRATE_BPS = 5e6;
const FANOUT = 8;

export interface HopResult {
  raw: ReturnType<Recorder['summary']>;
  relayed: ReturnType<Recorder['summary']>;
}

export async function benchRelayHop(seconds: number): Promise<HopResult> {
  // The source: a bare server stream that writes each fragment to every subscriber.
  const subscribers: Array<grpc.ServerWritableStream<SubscribeRequest, Chunk>> = [];
  const source = new grpc.Server();
  source.addService(RelayService, {
    subscribe: (call: grpc.ServerWritableStream<SubscribeRequest, Chunk>) => {
      subscribers.push(call);
      call.on('cancelled', () => subscribers.splice(subscribers.indexOf(call), 1));
    },
    ping: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}),
  });
  const port = await new Promise<number>((res, rej) =>
    source.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  const sourceAddress = `127.0.0.1:${port}`;

  // The relay hop: an edge subscribed to the source, serving 8 children. Emulation off.
  const plan = fakePlan({ viewers: Array.from({ length: FANOUT }, (_, i) => `v${i}`) });
  const link = new LinkEmulator({ plan, mechanism: 'kernel' }, { clock: systemClock });
  const edge = new RelayNode({ id: 'edge', role: 'edge' }, { link });
  const edgeServer = await startServer('127.0.0.1:0', (s) =>
    addRelayService(s, { link, clock: systemClock, node: () => edge }),
  );
  const pool = new ClientPool();
  const upstream = new ParentLink(
    { streamId: 'bench', fromLive: true },
    { node: edge, link, clock: systemClock, pool },
  );
  upstream.attach({ id: 'source', address: sourceAddress });

  const raw = new Recorder(0.001);
  const relayed = new Recorder(0.001);
  const calls: grpc.ClientReadableStream<Chunk>[] = [];
  const subscribe = (address: string, publisherId: string, into: Recorder) => {
    const call = pool.get(address).subscribe({
      streamId: 'bench',
      subscriberId: `c${calls.length}`,
      publisherId,
      fromSeq: 0,
      fromLive: true,
      toSeq: 0,
      priority: 0,
    });
    call.on('data', (f: Chunk) => into.record((systemClock.nowUs() - f.producedAtUs) / 1000));
    call.on('error', () => undefined);
    calls.push(call);
  };
  for (let i = 0; i < FANOUT; i++) subscribe(sourceAddress, 'source', raw);
  for (let i = 0; i < FANOUT; i++) subscribe(edgeServer.address, 'edge', relayed);
  await new Promise((r) => setTimeout(r, 500)); // every stream established

  const payload = Buffer.alloc(FRAGMENT_BYTES, 7);
  const intervalMs = (FRAGMENT_BYTES * 8 * 1000) / BITRATE_BPS;
  const total = Math.floor((seconds * 1000) / intervalMs);
  for (let seq = 0; seq < total; seq++) {
    const now = systemClock.nowUs();
    const f: Chunk = {
      streamId: 'bench',
      seq,
      producedAtUs: now,
      durationUs: 0,
      payload,
      keyframe: true,
      signature: Buffer.alloc(0),
      hops: 0,
      offset: 0,
      totalBytes: FRAGMENT_BYTES,
      sentAtUs: now,
      senderId: 'source',
      viaPeer: false,
      virtualLength: 0,
    };
    for (const s of subscribers) s.write(f);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const c of calls) c.cancel();
  upstream.stop();
  pool.close();
  link.stop();
  await edgeServer.stop();
  source.forceShutdown();
  return { raw: raw.summary(), relayed: relayed.summary() };
}
