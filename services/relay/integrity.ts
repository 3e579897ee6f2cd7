// Fragment integrity: the origin signs every fragment it releases with Ed25519 over (stream, seq,
// offset, length, chunk size, produced time, duration, keyframe, digest of the bytes), so a relay
// checks a fragment the moment it arrives and forwards it at once (cut-through kept), and no
// relay or viewer forwards or plays a byte the origin did not make. A virtual fragment (synthetic
// stream: only its size travels) is digested from its deterministic content, its description.
//
// Cost: one Ed25519 verification (~60–150 µs) per distinct fragment per process: every virtual
// viewer of a process receives the same fragments, so a verified (message, signature) pair is
// remembered and a second copy costs a SHA-256 of its bytes and a map lookup.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import type { Chunk } from '../gen/livepath/v1/chunk.js';
import { fragmentLength } from '../core/chunks.js';
import { KEEP_CHUNKS, REPLAY_SLACK_CHUNKS, VERIFIED_CACHE_ENTRIES } from './constants.js';

/** Why a fragment was refused (the `reason` label of livepath_fragments_rejected_total). */
export type RejectReason = 'signature' | 'unsigned' | 'replay' | 'malformed';
export const REJECT_REASONS: readonly RejectReason[] = ['signature', 'unsigned', 'replay', 'malformed'];

const DOMAIN = Buffer.from('livepath/v1/fragment\u0000');
const VIRTUAL_DOMAIN = 'livepath/v1/virtual\u0000';
/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32-byte key follows. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_SIGNATURE_BYTES = 64;

/** Digest of the bytes a fragment carries: its payload, or a virtual fragment's description. */
export function fragmentDigest(f: Chunk): Buffer {
  const h = createHash('sha256');
  if (f.virtualLength > 0)
    h.update(`${VIRTUAL_DOMAIN}${f.streamId}\u0000${f.seq}\u0000${f.offset}\u0000${f.virtualLength}`);
  else h.update(f.payload);
  return h.digest();
}

/** The bytes the origin signs for a fragment (everything a receiver acts on but the hop fields). */
export function fragmentMessage(f: Chunk, digest = fragmentDigest(f)): Buffer {
  const stream = Buffer.from(f.streamId);
  const out = Buffer.alloc(DOMAIN.length + 4 + stream.length + 6 * 8 + 1 + digest.length);
  let at = DOMAIN.copy(out, 0);
  at = out.writeUInt32BE(stream.length, at);
  at += stream.copy(out, at);
  // Doubles hold every integer a field can take (< 2^53) exactly.
  for (const v of [f.seq, f.offset, fragmentLength(f), f.totalBytes, f.producedAtUs, f.durationUs]) {
    at = out.writeDoubleBE(v, at);
  }
  at = out.writeUInt8(f.keyframe ? 1 : 0, at);
  digest.copy(out, at);
  return out;
}

/** The origin's key pair: generated at start, or loaded from a PKCS#8 PEM file (`--signing-key`). */
export class FragmentSigner {
  readonly publicKey: KeyObject;

  constructor(private readonly privateKey: KeyObject = generateKeyPairSync('ed25519').privateKey) {
    if (privateKey.asymmetricKeyType !== 'ed25519')
      throw new SigningKeyError(`it is a ${privateKey.asymmetricKeyType} key`);
    this.publicKey = createPublicKey(privateKey);
  }

  static fromPem(pem: string | Buffer): FragmentSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (e) {
      throw new SigningKeyError((e as Error).message);
    }
    return new FragmentSigner(key);
  }

  /** The public key as the other processes take it (`--origin-key`): base64 of its 32 bytes. */
  get publicKeyBase64(): string {
    return publicKeyToBase64(this.publicKey);
  }

  /** The private key as PKCS#8 PEM (what `--signing-key` reads). */
  privatePem(): string {
    return this.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  sign(f: Chunk): Buffer {
    return sign(null, fragmentMessage(f), this.privateKey);
  }
}

export class SigningKeyError extends Error {
  constructor(reason: string) {
    super(`--signing-key must be an Ed25519 private key in PKCS#8 PEM (openssl genpkey -algorithm ed25519): ${reason}`);
  }
}

export class OriginKeyError extends Error {
  constructor(value: string) {
    super(
      `--origin-key must be the base64 of the origin's 32-byte Ed25519 public key (the origin logs it as originKey); got "${value.slice(0, 60)}"`,
    );
  }
}

export function publicKeyToBase64(key: KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length).toString('base64');
}

/** The 32 bytes of an `--origin-key` (as Assignment.origin_key carries them). */
export function originKeyBytes(value: string): Buffer {
  const raw = Buffer.from(value, 'base64');
  if (raw.length !== 32) throw new OriginKeyError(value);
  return raw;
}

export function publicKeyFromBytes(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function publicKeyFromBase64(value: string): KeyObject {
  return publicKeyFromBytes(originKeyBytes(value));
}

export interface VerifierComponents {
  /** this process' clock (µs since the Unix epoch), for the replay window */
  nowUs: () => number;
  /** told of every verification done (not the remembered ones), with its CPU time (µs) */
  onVerified?: (cpuUs: number) => void;
  /** told of every fragment checked */
  onChecked?: () => void;
}

/**
 * Checks fragments against the origin's public key. One per process, shared by its virtual nodes.
 * A fragment is a replay when its chunk is older than any relay keeps (KEEP_CHUNKS chunk-times
 * after its production, plus REPLAY_SLACK_CHUNKS for transit): a valid signature on stale bytes.
 */
export class FragmentVerifier {
  /** the origin's public key; undefined until known (a peer may learn it from the tracker) */
  publicKey: KeyObject | undefined;
  /** signature (base64) → the message it was verified over */
  private readonly verified = new Map<string, Buffer>();
  /** distinct fragments verified by signature, and what that cost (µs of CPU) */
  verifications = 0;
  verifyCpuUs = 0;
  /** fragments checked (including remembered ones) */
  checked = 0;

  constructor(
    publicKey: KeyObject | string | undefined,
    private readonly c: VerifierComponents,
    private readonly cacheEntries = VERIFIED_CACHE_ENTRIES,
  ) {
    this.setKey(publicKey);
  }

  /** Takes the origin's public key (a KeyObject, or the base64 of `--origin-key`). */
  setKey(key: KeyObject | string | undefined): void {
    this.publicKey = typeof key === 'string' ? publicKeyFromBase64(key) : key;
    this.verified.clear();
  }

  /** undefined when the fragment is the origin's and fresh (or no key is known yet); else why not. */
  check(f: Chunk): RejectReason | undefined {
    if (!this.publicKey) return undefined;
    this.checked++;
    this.c.onChecked?.();
    if (f.signature.length === 0) return 'unsigned';
    const fieldsInRange = f.seq >= 0 && f.offset >= 0 && f.totalBytes >= 0 && f.virtualLength >= 0 && f.durationUs > 0;
    if (f.signature.length !== ED25519_SIGNATURE_BYTES || !fieldsInRange) return 'malformed';
    let message: Buffer;
    try {
      message = fragmentMessage(f);
    } catch {
      return 'malformed'; // a field out of range (e.g. a negative offset from a fuzzer)
    }
    const key = f.signature.toString('base64');
    const known = this.verified.get(key);
    if (!known?.equals(message)) {
      const t0 = process.cpuUsage();
      const ok = verify(null, message, this.publicKey, f.signature);
      const t = process.cpuUsage(t0);
      this.verifications++;
      this.verifyCpuUs += t.user + t.system;
      this.c.onVerified?.(t.user + t.system);
      if (!ok) return 'signature';
      if (this.verified.size >= this.cacheEntries) {
        // Map iterates in insertion order: drop the oldest.
        this.verified.delete(this.verified.keys().next().value!);
      }
      this.verified.set(key, message);
    }
    const maxAgeUs = (KEEP_CHUNKS + REPLAY_SLACK_CHUNKS) * f.durationUs;
    if (this.c.nowUs() - f.producedAtUs > maxAgeUs) return 'replay';
    return undefined;
  }
}

/** What a process counts about integrity (its metrics). */
export interface IntegrityCounters {
  checked(): void;
  verified(cpuUs: number): void;
  /** `count` 0 exports the reason before any rejection (a dashboard shows 0, not "No data") */
  rejected(reason: RejectReason, count?: number): void;
}

/**
 * The process' verifier and what its relay nodes take to use it. Without `originKey` nothing is
 * verified until a key is set (a p2p peer learns it from the tracker's Join answer).
 */
export function processIntegrity(
  originKey: string | undefined,
  nowUs: () => number,
  counters: IntegrityCounters,
): { verifier: FragmentVerifier; onRejected: (f: Chunk, reason: RejectReason) => void } {
  const verifier = new FragmentVerifier(originKey, {
    nowUs,
    onVerified: (us) => counters.verified(us),
    onChecked: () => counters.checked(),
  });
  for (const reason of REJECT_REASONS) counters.rejected(reason, 0);
  return { verifier, onRejected: (_f, reason) => counters.rejected(reason) };
}
