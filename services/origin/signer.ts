// Ed25519 signatures of whole chunks by the origin, so a viewer can tell a relayed chunk is the
// origin's. The key pair is derived from the scenario seed: every process of a run agrees on it.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

// PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export class ChunkSigner {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(runSeed: number, streamId: string) {
    const seed = createHash('sha256').update(`livepath/${runSeed}/${streamId}`).digest();
    this.privateKey = createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    this.publicKey = createPublicKey(this.privateKey);
  }

  sign(streamId: string, seq: number, producedAtUs: number, payload: Uint8Array): Buffer {
    return sign(null, this.message(streamId, seq, producedAtUs, payload), this.privateKey);
  }

  verify(streamId: string, seq: number, producedAtUs: number, payload: Uint8Array, signature: Uint8Array): boolean {
    return verify(null, this.message(streamId, seq, producedAtUs, payload), this.publicKey, signature);
  }

  private message(streamId: string, seq: number, producedAtUs: number, payload: Uint8Array): Buffer {
    const header = Buffer.from(`${streamId}\u0000${seq}\u0000${producedAtUs}\u0000`);
    return Buffer.concat([header, payload]);
  }
}
