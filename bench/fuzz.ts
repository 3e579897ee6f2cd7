// Bad input, property-tested with fast-check: arbitrary field values and arbitrary raw frames sent
// to every RPC of Relay and Tracker on a real gRPC server in this process, arbitrary fragments
// (and the origin's own with arbitrary unsigned hop fields) handed to a verifying relay node, and
// arbitrary text and YAML given to the scenario loader. A
// service must answer with a gRPC status (or data) and keep serving; the loader must throw its
// own ScenarioError, never anything else. CI runs a seeded subset (test/unit/fuzz.test.ts); the
// bench runs the full count.
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import pino from 'pino';
import { stringify } from 'yaml';
import type { Chunk } from '../services/gen/livepath/v1/chunk.js';
import { RelayClient } from '../services/gen/livepath/v1/relay.js';
import { TrackerClient } from '../services/gen/livepath/v1/tracker.js';
import { ScenarioError } from '../services/core/scenario/errors.js';
import { parseScenario } from '../services/core/scenario/load.js';
import { OverlayPlanner } from '../services/core/overlay/planner.js';
import { Prng } from '../services/core/prng.js';
import { LinkEmulator } from '../services/linkemu/emulator.js';
import { FragmentSigner, FragmentVerifier } from '../services/relay/integrity.js';
import { RelayNode } from '../services/relay/node.js';
import { addRelayService } from '../services/relay/server.js';
import { createClient, startServer } from '../services/runtime/grpc.js';
import { systemClock } from '../services/runtime/clock.js';
import { Tracker } from '../services/tracker/tracker.js';
import { loadPlan } from '../services/runtime/plan.js';
import { packageFile } from '../services/runtime/package.js';

const text = fc.string({ maxLength: 40 });
const id = fc.oneof(fc.constantFrom('', 'origin', 'edge1', 'v1'), text);
const int = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 - 1, Number.MAX_SAFE_INTEGER));
const uint = fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 53 - 1));
const double = fc.double();
const rtt = fc.record({ nodeId: id, rttMs: double, delayMs: double });

/** The loader on arbitrary text, and on arbitrary YAML trees grafted onto a valid scenario. */
export function fuzzScenarioLoader(numRuns: number, seed: number, base: object): number {
  const check = (source: string) => {
    try {
      parseScenario(source, 'fuzz.yaml');
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      if (e.message.includes('    at ')) throw new Error(`a stack trace in the message: ${e.message}`);
    }
  };
  fc.assert(fc.property(fc.string({ maxLength: 400 }), check), { numRuns: Math.ceil(numRuns / 2), seed });
  const keys = fc.constantFrom(
    'name',
    'seed',
    'durationS',
    'stream',
    'graph',
    'geo',
    'churn',
    'adversaries',
    'faults',
    'overlay',
    'arrivals',
  );
  fc.assert(
    fc.property(keys, fc.jsonValue({ maxDepth: 3 }), (key, value) => check(stringify({ ...base, [key]: value }))),
    { numRuns: Math.ceil(numRuns / 2), seed },
  );
  return 2 * Math.ceil(numRuns / 2);
}

/** A verifying relay node given fragments with arbitrary fields: it refuses or takes them, never throws. */
export function fuzzFragments(numRuns: number, seed: number): number {
  const plan = loadPlan(packageFile('scenarios', 'small.yaml'));
  const link = new LinkEmulator({ plan }, { clock: systemClock });
  const signer = new FragmentSigner();
  const verifier = new FragmentVerifier(signer.publicKey, { nowUs: systemClock.nowUs });
  const node = new RelayNode({ id: plan.viewers[0]!.id, role: 'peer' }, { link, verifier });
  const fragment = fc.record({
    streamId: text,
    seq: int,
    producedAtUs: int,
    durationUs: int,
    payload: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
    keyframe: fc.boolean(),
    signature: fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
    hops: uint,
    offset: int,
    totalBytes: int,
    sentAtUs: int,
    senderId: id,
    viaPeer: fc.boolean(),
    virtualLength: int,
  });
  try {
    fc.assert(
      fc.property(fragment, (f: Chunk) => {
        const reason = node.arrive(f);
        if (reason === undefined) throw new Error(`a forged fragment passed: ${JSON.stringify(f)}`);
      }),
      { numRuns: Math.ceil(numRuns / 2), seed },
    );
    // The origin's own fragments with arbitrary hop fields (which are not signed): taken or
    // refused, never a crash (an unknown sender id crashed the receiver once).
    const hops = fc.record({ hops: uint, sentAtUs: int, senderId: id, viaPeer: fc.boolean(), seq: fc.nat(1_000) });
    fc.assert(
      fc.property(hops, (h) => {
        const f: Chunk = {
          streamId: plan.stream.streamId,
          seq: h.seq,
          producedAtUs: systemClock.nowUs(),
          durationUs: plan.stream.chunkDurationUs,
          payload: Buffer.alloc(0),
          keyframe: false,
          signature: Buffer.alloc(0),
          hops: h.hops,
          offset: 0,
          totalBytes: 2 * plan.stream.fragmentBytes,
          sentAtUs: h.sentAtUs,
          senderId: h.senderId,
          viaPeer: h.viaPeer,
          virtualLength: plan.stream.fragmentBytes,
        };
        f.signature = signer.sign(f);
        node.arrive(f);
      }),
      { numRuns: Math.ceil(numRuns / 2), seed },
    );
  } finally {
    link.stop();
  }
  return 2 * Math.ceil(numRuns / 2);
}

/**
 * Every RPC of Relay and Tracker on one real server: arbitrary field values through the generated
 * clients, then arbitrary bytes as the request frame of each method. After each case the server
 * must still answer a Ping.
 */
export async function fuzzRpcs(numRuns: number, seed: number): Promise<{ fields: number; frames: number }> {
  const plan = loadPlan(packageFile('scenarios', 'small.yaml'));
  const link = new LinkEmulator({ plan }, { clock: systemClock });
  const verifier = new FragmentVerifier(new FragmentSigner().publicKey, { nowUs: systemClock.nowUs });
  const node = new RelayNode({ id: plan.originId, role: 'edge' }, { link, verifier });
  const planner = new OverlayPlanner(
    {
      model: { slotBytes: plan.stream.chunkBytes, fragmentBytes: plan.stream.fragmentBytes },
      bitrateBps: plan.stream.bitrateBps,
      headroom: 1.25,
      maxFanout: 4,
      hysteresisMs: 5,
      hysteresisRatio: 0.05,
      cooldownRounds: 1,
      candidatesPerRound: 8,
    },
    new Prng(seed),
  );
  const tracker = new Tracker(
    { roots: [{ id: plan.originId, role: 'origin', address: '127.0.0.1:1', slots: 2, uplinkBps: 1e9 }] },
    { planner, log: pino({ level: 'silent' }) },
  );
  const server = await startServer('127.0.0.1:0', (s) => {
    addRelayService(s, { link, clock: systemClock, node: (x) => (x === '' || x === node.id ? node : undefined) });
    tracker.addTo(s);
  });
  const relay = createClient(RelayClient, server.address);
  const trackerClient = createClient(TrackerClient, server.address);
  const raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
  const deadline = () => ({ deadline: Date.now() + 2_000 });
  const unary = <T>(fn: (cb: (err: grpc.ServiceError | null, res?: T) => void) => void) =>
    new Promise<void>((resolve) => fn(() => resolve()));
  const alive = () =>
    new Promise<void>((resolve, reject) =>
      relay.ping(
        { senderId: plan.viewers[0]!.id, sentAtUs: 0, targetId: '' },
        new grpc.Metadata(),
        deadline(),
        (err) => (err ? reject(new Error(`the server stopped answering: ${err.message}`)) : resolve()),
      ),
    );
  /** A server stream: the first answer (data or status), then cancel. */
  const firstOf = (call: grpc.ClientReadableStream<unknown>) =>
    new Promise<void>((resolve) => {
      const done = () => {
        call.cancel();
        resolve();
      };
      call.on('data', done);
      call.on('error', done);
      call.on('end', done);
      setTimeout(done, 50);
    });
  const rpc = fc.oneof(
    fc
      .record({
        streamId: text,
        subscriberId: id,
        fromSeq: uint,
        fromLive: fc.boolean(),
        toSeq: uint,
        priority: uint,
        publisherId: id,
      })
      .map((r) => () => firstOf(relay.subscribe(r, new grpc.Metadata(), deadline()))),
    fc
      .record({ senderId: id, sentAtUs: int, targetId: id })
      .map((r) => () => unary((cb) => relay.ping(r, new grpc.Metadata(), deadline(), cb))),
    fc
      .record({
        peerId: id,
        address: text,
        uplinkBps: double,
        rtts: fc.array(rtt, { maxLength: 4 }),
        region: text,
        downlinkBps: double,
      })
      .map((r) => () => firstOf(trackerClient.join(r, new grpc.Metadata(), deadline()))),
    fc
      .record({
        peerId: id,
        lastSeq: uint,
        delayMs: double,
        lateChunks: uint,
        parentLost: fc.boolean(),
        rtts: fc.array(rtt, { maxLength: 4 }),
        suspectId: id,
        suspectReason: fc.oneof(text, fc.constantFrom('signature', 'withhold', 'trickle')),
      })
      .map((r) => () => unary((cb) => trackerClient.report(r, new grpc.Metadata(), deadline(), cb))),
    fc
      .record({ peerId: id })
      .map((r) => () => unary((cb) => trackerClient.leave(r, new grpc.Metadata(), deadline(), cb))),
    fc
      .record({ peerId: id, rtts: fc.array(rtt, { maxLength: 4 }) })
      .map((r) => () => unary((cb) => trackerClient.candidates(r, new grpc.Metadata(), deadline(), cb))),
    fc.constant(() => unary((cb) => trackerClient.streamClock({}, new grpc.Metadata(), deadline(), cb))),
  );
  const methods = [
    '/livepath.v1.Relay/Ping',
    '/livepath.v1.Tracker/Report',
    '/livepath.v1.Tracker/Leave',
    '/livepath.v1.Tracker/Candidates',
    '/livepath.v1.Tracker/StreamClock',
  ];
  const streams = ['/livepath.v1.Relay/Subscribe', '/livepath.v1.Tracker/Join'];
  const identity = (b: Buffer) => b;
  const frame = fc.tuple(fc.constantFrom(...methods, ...streams), fc.uint8Array({ maxLength: 200 })).map(
    ([method, bytes]) =>
      () =>
        streams.includes(method)
          ? firstOf(
              raw.makeServerStreamRequest(
                method,
                identity,
                identity,
                Buffer.from(bytes),
                new grpc.Metadata(),
                deadline(),
              ),
            )
          : unary((cb) =>
              raw.makeUnaryRequest(method, identity, identity, Buffer.from(bytes), new grpc.Metadata(), deadline(), cb),
            ),
  );
  try {
    await fc.assert(
      fc.asyncProperty(rpc, async (call) => {
        await call();
        await alive();
      }),
      { numRuns, seed },
    );
    await fc.assert(
      fc.asyncProperty(frame, async (call) => {
        await call();
        await alive();
      }),
      { numRuns, seed },
    );
  } finally {
    relay.close();
    trackerClient.close();
    raw.close();
    await server.stop();
    link.stop();
  }
  return { fields: numRuns, frames: numRuns };
}
