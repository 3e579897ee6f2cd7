// A child that changes parent resumes from its next missing seq over real gRPC — and not from a
// seq its window has already forgotten (a bug that made re-parented viewers pull ~40 chunks of
// backlog, seconds late).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Chunk } from '../../services/gen/livepath/v1/chunk.js';
import { LinkEmulator } from '../../services/linkemu/emulator.js';
import { systemClock } from '../../services/runtime/clock.js';
import { RelayNode } from '../../services/relay/node.js';
import { ClientPool, ParentLink } from '../../services/relay/client.js';
import { addRelayService } from '../../services/relay/server.js';
import { startServer } from '../../services/runtime/grpc.js';
import { KEEP_CHUNKS } from '../../services/relay/constants.js';
import { fakePlan } from '../helpers/fake-plan.js';

function chunk(seq: number): Chunk {
  return {
    streamId: 'live',
    seq,
    producedAtUs: systemClock.nowUs(),
    durationUs: 250_000,
    payload: Buffer.alloc(0),
    keyframe: true,
    signature: Buffer.alloc(0),
    hops: 0,
    offset: 0,
    totalBytes: 1000,
    sentAtUs: 0,
    senderId: 'b',
    viaPeer: false,
    virtualLength: 1000,
  };
}

const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
};

test('resume after a re-parent asks for the next missing seq, even past the forgotten window', async () => {
  const plan = fakePlan({ latencyMs: 1, viewers: ['v1'] });
  const link = new LinkEmulator({ plan }, { clock: systemClock });
  const edge = new RelayNode({ id: 'edge', role: 'edge' }, { link });
  const origin = new RelayNode({ id: 'origin', role: 'origin' }, { link });
  const server = await startServer('127.0.0.1:0', (s) =>
    addRelayService(s, {
      link,
      clock: systemClock,
      node: (id) => (id === 'edge' ? edge : id === 'origin' ? origin : undefined),
    }),
  );
  const viewer = new RelayNode({ id: 'v1', role: 'peer' }, { link });
  const asked: Array<number | 'live'> = [];
  const pool = new ClientPool();
  const parent = new ParentLink(
    { streamId: 'live', fromLive: true },
    { node: viewer, link, clock: systemClock, pool, onSubscribed: (_p, from) => asked.push(from) },
  );
  try {
    parent.attach({ id: 'edge', address: server.address });
    await until(() => edge.childCount === 1, 'the subscription to reach the edge');
    const total = KEEP_CHUNKS + 20;
    for (let s = 0; s < total; s++) {
      edge.accept(chunk(s), systemClock.nowUs());
      origin.accept(chunk(s), systemClock.nowUs());
    }
    await until(() => viewer.hasComplete(total - 1), 'the viewer to hold every chunk');
    assert.equal(viewer.hasComplete(0), false, 'the first chunks have left its window');
    parent.attach({ id: 'origin', address: server.address });
    assert.deepEqual(asked, ['live', total], 'resumes right after the newest chunk it holds');
    assert.equal(parent.nextMissingSeq(), total);
  } finally {
    parent.stop();
    pool.close();
    link.stop();
    await server.stop();
  }
});
