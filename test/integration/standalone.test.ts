// Services started standalone, as a pod starts them (no lab, no control channel): each must start
// on its own once ready, in whatever order the pods come up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { runProbe } from '../../services/lab/commands/probe.js';
import { grpcHealth } from '../../services/lab/up/probes.js';
import { LIVENESS_SERVICES } from '../../services/runtime/grpc.js';
import { STREAM_CLOCK_FILE, type StreamClockFile } from '../../services/results/stream-clock.js';
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

type ProtoRelayClient = grpc.Client & {
  subscribe(req: object): grpc.ClientReadableStream<{ seq: number; total_bytes: number; stream_id: string }>;
};

/** A Relay client from the published .proto files, loaded at run time: not the project's ts-proto client. */
function protoRelayClient(address: string): ProtoRelayClient {
  const def = loadSync('livepath/v1/relay.proto', {
    includeDirs: [join(ROOT, 'proto')],
    longs: Number,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    livepath: { v1: { Relay: new (address: string, creds: grpc.ChannelCredentials) => grpc.Client } };
  };
  return new pkg.livepath.v1.Relay(address, grpc.credentials.createInsecure()) as ProtoRelayClient;
}

/** Subscribes from the live edge and collects chunk seqs until `enough` says so. */
function liveSeqs(
  client: ProtoRelayClient,
  enough: (seqs: Set<number>) => boolean,
  timeoutMs: number,
  log: () => string,
): Promise<Set<number>> {
  return new Promise<Set<number>>((resolve, reject) => {
    const got = new Set<number>();
    const call = client.subscribe({ subscriber_id: 'proto-client', from_live: true });
    const timer = setTimeout(
      () => reject(new Error(`not enough chunks within ${timeoutMs} ms (${[...got].join(',')}):\n${log()}`)),
      timeoutMs,
    );
    call.on('data', (f) => {
      got.add(f.seq);
      if (enough(got)) {
        clearTimeout(timer);
        call.cancel();
        resolve(got);
      }
    });
    call.on('error', (e: grpc.ServiceError) => {
      if (e.code !== grpc.status.CANCELLED) reject(e);
    });
  });
}

test('a standalone origin delivers chunks to a gRPC client built from proto/ alone', async () => {
  await withServices(async (started) => {
    const origin = await startStandalone(['origin', ...common]);
    started.push(origin);
    const client = protoRelayClient(origin.address);
    try {
      const seqs = await liveSeqs(client, (got) => got.size >= 3, 10_000, origin.log);
      assert.equal(seqs.size, 3);
    } finally {
      client.close();
    }
  });
});

test("a standalone origin streams past the scenario's durationS: a deployment has no end", async () => {
  // 2 s of scenario = chunks 0…7 at 250 ms; a lab run would end there.
  const short = writeScenario(dir, 'short', smallScenario('standalone-short', { durationS: 2 }));
  await withServices(async (started) => {
    const origin = await startStandalone([
      'origin',
      '--scenario',
      short,
      '--listen',
      '127.0.0.1:0',
      '--metrics-port',
      '0',
    ]);
    started.push(origin);
    const client = protoRelayClient(origin.address);
    try {
      const seqs = await liveSeqs(client, (got) => Math.max(...got) >= 16, 15_000, origin.log);
      assert.ok(Math.max(...seqs) >= 16, "chunks twice past the scenario's end");
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

test('readiness means streaming: each role turns SERVING when it streams, liveness at once', async () => {
  await withServices(async (started) => {
    const health = (address: string, service = '') => {
      const i = address.lastIndexOf(':');
      return grpcHealth(address.slice(0, i), Number(address.slice(i + 1)), service).then((r) => r.message);
    };
    const until = async (address: string, want: string) => {
      const deadline = Date.now() + 15_000;
      let last = '';
      while (Date.now() < deadline) {
        last = await health(address);
        if (last.endsWith(want)) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.fail(`${address}: ${last}, expected ${want}`);
    };
    // Tracker and edge first, with no origin: alive, not ready.
    const originPort = await freePort();
    const edgePort = await freePort();
    const directory = `origin=127.0.0.1:${originPort},edge1=127.0.0.1:${edgePort}`;
    const tracker = await startStandalone(['tracker', ...common, '--directory', directory]);
    started.push(tracker);
    const edge = await startStandalone([
      'edge',
      '--scenario',
      scenario,
      '--listen',
      `127.0.0.1:${edgePort}`,
      '--metrics-port',
      '0',
      '--node',
      'edge1',
      '--directory',
      directory,
    ]);
    started.push(edge);
    assert.match(await health(tracker.address, LIVENESS_SERVICES.tracker), /: SERVING$/);
    assert.match(await health(edge.address, LIVENESS_SERVICES.relay), /: SERVING$/);
    await new Promise((r) => setTimeout(r, 1_500));
    assert.match(await health(tracker.address), /: NOT_SERVING$/, 'tracker: no stream clock yet');
    assert.match(await health(edge.address), /: NOT_SERVING$/, 'edge: no chunk from its parent');
    const origin = await startStandalone([
      'origin',
      '--scenario',
      scenario,
      '--listen',
      `127.0.0.1:${originPort}`,
      '--metrics-port',
      '0',
    ]);
    started.push(origin);
    await until(origin.address, ': SERVING');
    await until(edge.address, ': SERVING');
    await until(tracker.address, ': SERVING');
    // The origin stops streaming (it is stopped): the edge is no longer ready.
    await origin.stop();
    await until(edge.address, ': NOT_SERVING');
  });
});

test('standalone viewers follow the stream clock the tracker learnt from the origin, whenever their pod starts', async () => {
  // v3 is killed 2 s into the stream: a viewer host started after that must not play its join.
  const churned = writeScenario(
    dir,
    'churned',
    smallScenario('standalone-churned', { durationS: 60, churn: [{ atS: 2, kind: 'kill', viewers: ['v3'] }] }),
  );
  const args = ['--scenario', churned, '--listen', '127.0.0.1:0', '--metrics-port', '0'];
  await withServices(async (started) => {
    const origin = await startStandalone(['origin', ...args]);
    started.push(origin);
    const edge = await startStandalone(['edge', ...args, '--node', 'edge1', '--directory', `origin=${origin.address}`]);
    started.push(edge);
    const directory = `origin=${origin.address},edge1=${edge.address}`;
    const trackerOut = tempDir('standalone-tracker');
    const tracker = await startStandalone(['tracker', ...args, '--directory', directory, '--out', trackerOut]);
    started.push(tracker);
    await new Promise((r) => setTimeout(r, 5_000));
    const peersOut = tempDir('standalone-peers');
    const peersStartUs = Date.now() * 1000;
    const peers = await startStandalone([
      'peers',
      ...args,
      '--mode',
      'cdn',
      '--directory',
      directory,
      '--tracker',
      tracker.address,
      '--out',
      peersOut,
    ]);
    started.push(peers);
    const r = await runProbe({ address: peers.address, nodes: ['v1'], seconds: 10 });
    assert.ok(r.ok, r.message);
    await peers.stop();
    const clock = JSON.parse(readFileSync(join(trackerOut, STREAM_CLOCK_FILE), 'utf8')) as StreamClockFile;
    assert.equal(clock.source, 'origin');
    assert.ok(clock.startUs < peersStartUs - 3_000_000, 'the stream began seconds before the viewer host');
    const joins = readFileSync(join(peersOut, 'peers.events.csv'), 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l.split(',')[1] === 'join')
      .map((l) => l.split(',')[2]);
    assert.deepEqual(joins.sort(), ['v1', 'v2', 'v4'], 'v3 left before this host started');
  });
});

test('p2p viewers whose Join the tracker did not take (it was down) join once it is back', async () => {
  // Every viewer joins 10 s into the stream, while the tracker is down.
  const late = writeScenario(
    dir,
    'late-joins',
    smallScenario('standalone-late', {
      durationS: 60,
      churn: [{ atS: 10, kind: 'join', viewers: ['v1', 'v2', 'v3', 'v4'] }],
    }),
  );
  const args = ['--scenario', late, '--listen', '127.0.0.1:0', '--metrics-port', '0'];
  await withServices(async (started) => {
    const origin = await startStandalone(['origin', ...args]);
    started.push(origin);
    const edge = await startStandalone(['edge', ...args, '--node', 'edge1', '--directory', `origin=${origin.address}`]);
    started.push(edge);
    const directory = `origin=${origin.address},edge1=${edge.address}`;
    const trackerPort = await freePort();
    const trackerArgs = ['tracker', '--scenario', late, '--listen', `127.0.0.1:${trackerPort}`, '--metrics-port', '0'];
    const tracker = await startStandalone([...trackerArgs, '--directory', directory]);
    started.push(tracker);
    const peers = await startStandalone([
      'peers',
      ...args,
      '--mode',
      'p2p',
      '--directory',
      directory,
      '--tracker',
      `127.0.0.1:${trackerPort}`,
    ]);
    started.push(peers);
    // The viewer host has the stream clock; the tracker goes down before the viewers join.
    const deadline = Date.now() + 15_000;
    while (!/viewers scheduled on the stream clock/.test(peers.log()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await tracker.stop();
    const clock = Number(/"startUs":(\d+)/.exec(peers.log())![1]);
    await new Promise((r) => setTimeout(r, Math.max(0, clock / 1000 + 12_000 - Date.now())));
    const restarted = await startStandalone([...trackerArgs, '--directory', directory]);
    started.push(restarted);
    // Chunks alone do not show the retry: a fast-starting viewer plays from its edge without the
    // tracker. The restarted tracker must have admitted the viewers whose first Join failed.
    let admitted = 0;
    const joinDeadline = Date.now() + 15_000;
    while (admitted < 4 && Date.now() < joinDeadline) {
      const text = await (await fetch(restarted.metricsUrl!)).text();
      admitted = Number(/^livepath_tracker_peers(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? 0);
      if (admitted < 4) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(admitted, 4, `the restarted tracker admitted ${admitted} of 4 viewers\n${peers.log()}`);
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
