// `livepath origin`: runs the origin (with its synthetic broadcaster) as a service process.
import { addRelayService, onlyNode } from '../relay/server.js';
import { startServer } from '../runtime/grpc.js';
import { createShell, type ShellOptions } from '../runtime/shell.js';
import { movedWithin, stallMs, watchReadiness } from '../runtime/readiness.js';
import { Origin } from './origin.js';
import { createIngest, type IngestOptions } from './ingest/index.js';
import { readFileSync } from 'node:fs';
import { FragmentSigner, SigningKeyError } from '../relay/integrity.js';

export interface OriginOptions extends ShellOptions, IngestOptions {
  listen: string;
  /** PKCS#8 PEM file of the origin's Ed25519 key; default: a key pair made at start */
  signingKey?: string;
}

/** The origin's key pair: loaded from --signing-key, else made now (nobody else can know it). */
export function loadSigner(file: string | undefined): FragmentSigner {
  if (file === undefined) return new FragmentSigner();
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (e) {
    throw new SigningKeyError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return FragmentSigner.fromPem(pem);
}

export async function runOrigin(o: OriginOptions): Promise<void> {
  const signer = loadSigner(o.signingKey);
  const shell = createShell(o, 'origin');
  const { clock, link, log, control } = shell;
  // A lab run broadcasts the scenario's durationS; a deployment (standalone) streams until it is
  // stopped: Grafana and `helm test` must find a stream however long after the install they look.
  const plan = o.control === 'standalone' ? { ...shell.plan, durationS: Number.POSITIVE_INFINITY } : shell.plan;
  // Real video (file / RTMP) when the scenario or --ingest asks for it; else the synthetic broadcaster.
  const ingest = await createIngest(plan, o.scenario, o, { clock, log, outDir: shell.outDir });
  if (ingest) shell.onStop(() => ingest.stop());
  const origin = new Origin({ plan }, { clock, link, signer, source: ingest?.source });
  const server = await startServer(o.listen, (s) => addRelayService(s, { link, clock, node: onlyNode(origin.node) }));
  shell.onStop(() => server.stop());
  shell.onStop(() => origin.stop());
  origin.onProduced = (seq) => {
    if (seq % 4 === 0 || seq === origin.chunkCount - 1) {
      control.emit({
        event: 'progress',
        proc: shell.proc,
        produced: origin.produced,
        total: origin.chunkCount,
        children: origin.node.childCount,
      });
    }
  };
  origin.onFinished = (reason) => {
    if (reason) log.warn({ err: reason.message }, 'broadcast ended early');
    control.emit({
      event: 'progress',
      proc: shell.proc,
      produced: origin.produced,
      total: origin.chunkCount,
      finished: true,
      ...(reason && { error: reason.message }),
    });
  };
  shell.onCommand((c) => {
    if (c.cmd === 'start') origin.start(c.atUs);
  });
  log.info(
    {
      address: server.address,
      chunks: origin.chunkCount,
      source: ingest?.kind ?? 'synthetic',
      publishUrl: ingest?.publishUrl,
      originKey: signer.publicKeyBase64,
    },
    'origin ready',
  );
  const producing = movedWithin(stallMs(plan), () => origin.produced);
  shell.onStop(
    watchReadiness({
      server,
      log,
      check: () =>
        producing()
          ? undefined
          : origin.produced === 0
            ? `no chunk produced yet${ingest?.publishUrl ? ` (a broadcaster pushes to ${ingest.publishUrl})` : ''}`
            : 'no chunk produced lately (the broadcast stalled or ended)',
    }),
  );
  shell.metrics.sampleOnScrape({ relays: () => [origin.node] });
  // The public key goes with the address: the lab hands it to every other process (--origin-key).
  await shell.ready(server.address, { originKey: signer.publicKeyBase64 });
}
