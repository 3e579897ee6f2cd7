// Services started standalone, as a pod starts them (no lab, no control channel): each must start
// on its own once ready, in whatever order the pods come up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { runProbe } from '../../services/lab/commands/probe.js';
import {
  ROOT,
  startStandalone,
  tempDir,
  writeScenario,
  smallScenario,
  type StandaloneService,
} from '../helpers/cli.js';

const dir = tempDir('standalone');
const scenario = writeScenario(dir, 'small', smallScenario('standalone-small', { durationS: 60 }));
const common = ['--scenario', scenario, '--listen', '127.0.0.1:0', '--metrics-port', '0'];

async function withServices(fn: (started: StandaloneService[]) => Promise<void>): Promise<void> {
  const started: StandaloneService[] = [];
  try {
    await fn(started);
  } finally {
    await Promise.all(started.map((s) => s.stop()));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

test('a standalone origin delivers chunks to a gRPC client built from proto/ alone', async () => {
  await withServices(async (started) => {
    const origin = await startStandalone(['origin', ...common]);
    started.push(origin);
    // Not the project's ts-proto client: the published .proto files, loaded at run time.
    const def = loadSync('livepath/v1/relay.proto', { includeDirs: [join(ROOT, 'proto')], longs: Number });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      livepath: { v1: { Relay: new (address: string, creds: grpc.ChannelCredentials) => grpc.Client } };
    };
    const client = new pkg.livepath.v1.Relay(origin.address, grpc.credentials.createInsecure()) as grpc.Client & {
      subscribe(req: object): grpc.ClientReadableStream<{ seq: number; total_bytes: number; stream_id: string }>;
    };
    try {
      const seqs = await new Promise<number[]>((resolve, reject) => {
        const got = new Set<number>();
        const call = client.subscribe({ subscriber_id: 'proto-client', from_live: true });
        const timer = setTimeout(() => reject(new Error(`no chunks within 10 s:\n${origin.log()}`)), 10_000);
        call.on('data', (f) => {
          got.add(f.seq);
          if (got.size >= 3) {
            clearTimeout(timer);
            call.cancel();
            resolve([...got]);
          }
        });
        call.on('error', (e: grpc.ServiceError) => {
          if (e.code !== grpc.status.CANCELLED) reject(e);
        });
      });
      assert.equal(seqs.length, 3);
    } finally {
      client.close();
    }
  });
});

test('standalone peers start their viewers (CDN path: origin, edge, peers)', async () => {
  await withServices(async (started) => {
    const origin = await startStandalone(['origin', ...common]);
    started.push(origin);
    const edge = await startStandalone([
      'edge',
      ...common,
      '--node',
      'edge1',
      '--directory',
      `origin=${origin.address}`,
    ]);
    started.push(edge);
    const peers = await startStandalone([
      'peers',
      ...common,
      '--mode',
      'cdn',
      '--directory',
      `origin=${origin.address},edge1=${edge.address}`,
    ]);
    started.push(peers);
    const r = await runProbe({ address: peers.address, nodes: ['v1', 'v2', 'v3', 'v4'], seconds: 15 });
    assert.ok(r.ok, `${r.message}\n${peers.log()}`);
  });
});

test('p2p viewers whose tracker starts after them join once it is up', async () => {
  await withServices(async (started) => {
    const origin = await startStandalone(['origin', ...common]);
    started.push(origin);
    const edge = await startStandalone([
      'edge',
      ...common,
      '--node',
      'edge1',
      '--directory',
      `origin=${origin.address}`,
    ]);
    started.push(edge);
    const directory = `origin=${origin.address},edge1=${edge.address}`;
    const trackerPort = await freePort();
    const peers = await startStandalone([
      'peers',
      ...common,
      '--mode',
      'p2p',
      '--directory',
      directory,
      '--tracker',
      `127.0.0.1:${trackerPort}`,
    ]);
    started.push(peers);
    // The tracker's pod comes up late: every first Join has failed by then.
    await new Promise((r) => setTimeout(r, 3_000));
    const tracker = await startStandalone([
      'tracker',
      '--scenario',
      scenario,
      '--listen',
      `127.0.0.1:${trackerPort}`,
      '--metrics-port',
      '0',
      '--directory',
      directory,
    ]);
    started.push(tracker);
    for (const v of ['v1', 'v2', 'v3', 'v4']) {
      const r = await runProbe({ address: peers.address, nodes: [v], seconds: 15 });
      assert.ok(r.ok, `${v}: ${r.message}\n${peers.log()}`);
    }
  });
});

test('origin --ingest picks the broadcaster over the scenario', async () => {
  await withServices(async (started) => {
    const origin = await startStandalone([
      'origin',
      ...common,
      '--ingest',
      'file',
      '--input',
      'lavfi:testsrc=size=64x64:rate=10',
    ]);
    started.push(origin);
    assert.match(origin.log(), /"source":"file".*"msg":"origin ready"/);
  });
});
