// Fragment signatures: every field a receiver acts on is covered, a verified fragment is
// remembered but a tampered copy of it is not, stale fragments are replays, and a relay node drops
// a bad fragment before storing, forwarding or playing it.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, mock, test } from 'node:test';
import type { Chunk } from '../../services/gen/livepath/v1/chunk.js';
import { LinkEmulator } from '../../services/linkemu/emulator.js';
import { RelayNode, type ChildSink } from '../../services/relay/node.js';
import { KEEP_CHUNKS, REPLAY_SLACK_CHUNKS } from '../../services/relay/constants.js';
import {
  FragmentSigner,
  FragmentVerifier,
  OriginKeyError,
  publicKeyFromBase64,
  type RejectReason,
  SigningKeyError,
} from '../../services/relay/integrity.js';
import { loadSigner } from '../../services/origin/main.js';
import { fakePlan, ManualClock } from '../helpers/fake-plan.js';

const signer = new FragmentSigner();
const NOW_US = 10_000_000;

function signed(over: Partial<Chunk> = {}): Chunk {
  const f: Chunk = {
    streamId: 'live',
    seq: 7,
    producedAtUs: NOW_US - 100_000,
    durationUs: 250_000,
    payload: Buffer.from('sixteen bytes...'),
    keyframe: true,
    signature: Buffer.alloc(0),
    hops: 0,
    offset: 32,
    totalBytes: 64,
    sentAtUs: 0,
    senderId: 'b',
    viaPeer: false,
    virtualLength: 0,
    ...over,
  };
  f.signature = signer.sign(f);
  return f;
}

const verifier = () => new FragmentVerifier(signer.publicKey, { nowUs: () => NOW_US });

describe('fragment signatures', () => {
  test("the origin's fragment passes; the hop fields are not signed", () => {
    const v = verifier();
    const f = signed();
    assert.equal(v.check(f), undefined);
    assert.equal(v.check({ ...f, hops: 3, sentAtUs: 99, senderId: 'v9', viaPeer: true }), undefined);
    assert.equal(v.check(signed({ payload: Buffer.alloc(0), virtualLength: 16_384 })), undefined);
  });

  test('changing any signed field or byte fails the signature', () => {
    const f = signed();
    const virtual = signed({ payload: Buffer.alloc(0), virtualLength: 16_384 });
    const flipped = Buffer.from(f.payload);
    flipped[3] = flipped[3]! ^ 1;
    const tampered: Chunk[] = [
      { ...f, streamId: 'other' },
      { ...f, seq: 8 },
      { ...f, offset: 0 },
      { ...f, totalBytes: 48 },
      { ...f, producedAtUs: f.producedAtUs + 1 },
      { ...f, durationUs: 500_000 },
      { ...f, keyframe: false },
      { ...f, payload: flipped },
      { ...f, payload: f.payload.subarray(1) },
      { ...virtual, virtualLength: 16_383 },
      { ...virtual, seq: 6 },
    ];
    const v = verifier();
    assert.deepEqual(
      tampered.map((t) => v.check(t)),
      tampered.map(() => 'signature'),
    );
  });

  test('a key anyone could derive (the scenario seed) is not the origin key', () => {
    const forger = new FragmentSigner();
    const f = signed();
    const forged = { ...f, seq: 9 };
    forged.signature = forger.sign(forged);
    assert.equal(verifier().check(forged), 'signature');
  });

  test('unsigned, malformed and stale fragments are refused with their reason', () => {
    const v = verifier();
    const f = signed();
    assert.equal(v.check({ ...f, signature: Buffer.alloc(0) }), 'unsigned');
    assert.equal(v.check({ ...f, signature: f.signature.subarray(1) }), 'malformed');
    assert.equal(v.check({ ...f, offset: -1 }), 'malformed');
    const maxAgeUs = (KEEP_CHUNKS + REPLAY_SLACK_CHUNKS) * 250_000;
    assert.equal(v.check(signed({ producedAtUs: NOW_US - maxAgeUs + 1 })), undefined, 'a backlog chunk is fresh');
    assert.equal(v.check(signed({ producedAtUs: NOW_US - maxAgeUs - 1 })), 'replay');
  });

  test('a fragment verified once is remembered; a tampered copy of it is verified again and fails', () => {
    const v = verifier();
    const f = signed();
    for (let i = 0; i < 50; i++) assert.equal(v.check({ ...f, senderId: `v${i}` }), undefined);
    assert.equal(v.verifications, 1, '50 viewers of one process, one verification');
    assert.equal(v.check({ ...f, seq: 8 }), 'signature');
    assert.equal(v.verifications, 2);
  });

  test('without a key nothing is checked until the tracker gives one', () => {
    const v = new FragmentVerifier(undefined, { nowUs: () => NOW_US });
    assert.equal(v.check({ ...signed(), seq: 99 }), undefined);
    v.setKey(signer.publicKeyBase64);
    assert.equal(v.check({ ...signed(), seq: 99 }), 'signature');
  });

  test('keys: the public half round-trips as --origin-key; a bad value or file is one line naming the flag', () => {
    assert.ok(publicKeyFromBase64(signer.publicKeyBase64).equals(signer.publicKey));
    assert.throws(() => publicKeyFromBase64('not a key'), OriginKeyError);
    assert.throws(() => publicKeyFromBase64('not a key'), /--origin-key must be the base64/);
    const dir = mkdtempSync(join(tmpdir(), 'livepath-key-'));
    writeFileSync(join(dir, 'origin.pem'), signer.privatePem());
    const loaded = loadSigner(join(dir, 'origin.pem'));
    assert.equal(loaded.publicKeyBase64, signer.publicKeyBase64);
    assert.equal(verifier().check(Object.assign(signed(), { signature: loaded.sign(signed()) })), undefined);
    writeFileSync(join(dir, 'bad.pem'), 'garbage');
    assert.throws(() => loadSigner(join(dir, 'bad.pem')), SigningKeyError);
    assert.throws(() => loadSigner(join(dir, 'missing.pem')), /--signing-key .*cannot read .*ENOENT/);
    assert.notEqual(new FragmentSigner().publicKeyBase64, signer.publicKeyBase64, 'a fresh key pair at each start');
  });
});

describe('a relay node with a verifier', () => {
  test('drops a bad fragment before storing, forwarding or playing it, and says why', () => {
    mock.timers.enable({ apis: ['setImmediate'] });
    try {
      const clock = new ManualClock();
      clock.us = NOW_US;
      const link = new LinkEmulator({ plan: fakePlan({ viewers: ['v1', 'v2'] }) }, { clock });
      const rejected: RejectReason[] = [];
      const node = new RelayNode(
        { id: 'v1', role: 'peer' },
        { link, verifier: verifier(), onRejected: (_f, r) => rejected.push(r) },
      );
      const got: Chunk[] = [];
      const sink: ChildSink = {
        write: (f) => got.push(f) > 0,
        onDrain: () => undefined,
        fail: () => undefined,
        end: () => undefined,
      };
      node.subscribe({ childId: 'v2', fromSeq: 0 }, sink);
      const completed: number[] = [];
      node.onChunkComplete = (last) => completed.push(last.seq);
      const whole = signed({ offset: 0, totalBytes: 16, seq: 3 });
      const flipped = Buffer.from(whole.payload);
      flipped[0] = flipped[0]! ^ 0xff;
      assert.equal(node.arrive({ ...whole, payload: flipped, senderId: 'b' }), 'signature');
      assert.equal(node.arrive({ ...whole, signature: Buffer.alloc(0), senderId: 'b' }), 'unsigned');
      mock.timers.tick(0);
      link.stop();
      assert.deepEqual(rejected, ['signature', 'unsigned']);
      assert.equal(got.length, 0, 'nothing forwarded');
      assert.equal(node.newest, -1, 'nothing stored');
      assert.equal(node.arrive({ ...whole, senderId: 'b' }), undefined, 'the genuine fragment still passes');
      mock.timers.tick(0);
      assert.equal(got.length, 1);
      assert.equal(node.newest, 3);
    } finally {
      mock.timers.reset();
    }
  });
});
