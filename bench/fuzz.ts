// Bad input, property-tested with fast-check: arbitrary fragments (fields, bytes, signatures, and
// the origin's own fragments with arbitrary unsigned hop fields) handed to a verifying relay node,
// and arbitrary text and YAML given to the scenario loader. The node refuses or takes each, never
// throws; the loader throws its own ScenarioError, never anything else. CI runs a seeded subset
// (test/unit/fuzz.test.ts); the bench runs the full count.
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { Chunk } from '../services/gen/livepath/v1/chunk.js';
import { ScenarioError } from '../services/core/scenario/errors.js';
import { parseScenario } from '../services/core/scenario/load.js';
import { LinkEmulator } from '../services/linkemu/emulator.js';
import { FragmentSigner, FragmentVerifier } from '../services/relay/integrity.js';
import { RelayNode } from '../services/relay/node.js';
import { systemClock } from '../services/runtime/clock.js';
import { loadPlan } from '../services/runtime/plan.js';
import { packageFile } from '../services/runtime/package.js';

const text = fc.string({ maxLength: 40 });
const id = fc.oneof(fc.constantFrom('', 'origin', 'edge1', 'v1'), text);
const int = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 2 ** 31, 2 ** 53 - 1, Number.MAX_SAFE_INTEGER));
const uint = fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 53 - 1));

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
