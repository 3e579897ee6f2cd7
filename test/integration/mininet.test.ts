// The mininet backend end to end, as root: the small explicit graph on real network namespaces,
// in both modes. Checks that delays follow the emulated paths, that the chunks really crossed the
// hosts' veths, and that the run leaves no interface, namespace or process behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadPlan } from '../../services/runtime/plan.js';
import type { RunPlan } from '../../services/core/types.js';
import type { MininetRecord } from '../../services/lab/backends/mininet.js';
import type { Summary } from '../../services/results/summary.js';

function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'containernet', 'run_scenario.py'))) dir = dirname(dir);
  return dir;
}
const ROOT = repoRoot();
const CLI = join(ROOT, 'bin', 'livepath.js');
const isRoot = process.getuid?.() === 0;
const mininetImportable =
  spawnSync('/usr/bin/python3', ['-c', 'import mininet.net, mininet.nodelib'], { stdio: 'ignore' }).status === 0;
const skip = !isRoot
  ? 'not root: Mininet needs root (CI runs as root)'
  : !mininetImportable
    ? 'mininet is not importable from /usr/bin/python3 (apt-get install mininet)'
    : false;

/**
 * Stated tolerance on top of the run's own emulation error: kernel htb releases in bursts of its
 * 15 kB bucket and queues a chunk's fragments behind each other, and on 2 cores the service
 * processes' event loops add lateness the linkemu histograms only partly see.
 */
const HTB_TOLERANCE_MS = 10;
const MODES = ['cdn', 'p2p'] as const;
/** run_scenario.py's smallest htb bucket: two full-size Ethernet frames. */
const HTB_BURST_BYTES = 2 * 1514;

/** Interfaces, network namespaces (as ns inodes) and our processes: what must not grow. */
function snapshot(out: string) {
  const netns = new Set<string>();
  const ours: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      netns.add(readlinkSync(`/proc/${d}/ns/net`));
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(out)) ours.push(d);
    } catch {
      // gone meanwhile
    }
  }
  return { intfs: new Set(readdirSync('/sys/class/net')), netns, ours };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

describe('mininet backend: small scenario, both modes', { skip, timeout: 120_000 }, () => {
  let out = '';
  let scenario = '';
  let plan: RunPlan;
  let beforeRun: ReturnType<typeof snapshot>;
  let run: ReturnType<typeof spawnSync>;

  before(() => {
    out = mkdtempSync(join(tmpdir(), 'livepath-mininet-'));
    // The shipped small graph, shortened to 4 s so both modes fit in well under a minute.
    scenario = join(out, 'small.yaml');
    writeFileSync(
      scenario,
      readFileSync(join(ROOT, 'scenarios', 'small.yaml'), 'utf8').replace(/^durationS: .*$/m, 'durationS: 4'),
    );
    plan = loadPlan(scenario);
    beforeRun = snapshot(out);
    run = spawnSync(
      process.execPath,
      [CLI, 'run', scenario, '--backend', 'mininet', '--mode', 'both', '--out', join(out, 'run'), '--quiet'],
      {
        encoding: 'utf8',
        timeout: 110_000,
      },
    );
  });

  after(() => rmSync(out, { recursive: true, force: true }));

  it('runs to the end, no chunk earlier than its bound less what htb lets through at once', () => {
    assert.equal(run.status, 0, `livepath run failed:\n${String(run.stderr)}`);
    for (const mode of MODES) {
      const rows = readFileSync(join(out, 'run', mode, 'chunks.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1);
      assert.ok(rows.length > 0);
      for (const r of rows.map((l) => l.split(','))) {
        // htb's full token bucket (HTB_MIN_BURST_BYTES of run_scenario.py) leaves at once, ahead of
        // its serialization at the path's bottleneck; linkemu never lets a chunk beat its bound.
        const burstMs = (HTB_BURST_BYTES * 8 * 1000) / plan.bottleneckBps(plan.broadcasterId, r[0]!);
        assert.ok(
          Number(r[4]) >= Number(r[5]) - burstMs - 0.001,
          `${mode} ${r[0]} chunk ${r[1]}: delay ${r[4]} ms < bound ${r[5]} ms − htb burst ${burstMs.toFixed(2)} ms`,
        );
      }
    }
  });

  for (const mode of MODES) {
    const read = () => {
      const dir = join(out, 'run', mode);
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Summary;
      const record = JSON.parse(readFileSync(join(dir, 'mininet.json'), 'utf8')) as MininetRecord;
      const rows = readFileSync(join(dir, 'chunks.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));
      return { summary, record, rows };
    };

    it(`${mode}: records the mechanism the kernel allowed`, () => {
      const { summary, record } = read();
      assert.equal(summary.backend, 'mininet');
      assert.equal(record.kernelShaping, record.netem ? 'kernel' : 'delay-only');
      // On Mininet synthetic chunks carry real bytes (stream.payload defaults to real): the kernel shapes them.
      assert.equal(record.linkShaping, record.kernelShaping);
      assert.equal(summary.linkShaping, record.linkShaping);
    });

    it(`${mode}: each viewer's median delay follows its path's latency + serialization`, () => {
      const { summary, rows } = read();
      const chunkBits = plan.stream.chunkBytes * 8;
      // Latency from the broadcaster along the chain of parents a chunk really took.
      const parentOf = new Map(rows.map((r) => [`${r[0]}/${r[1]}`, r[8]!]));
      const propagation = (viewer: string, seq: string, depth = 0): number => {
        const parent = parentOf.get(`${viewer}/${seq}`);
        if (parent === undefined || depth > 10) return Number.NaN;
        const upstream = plan.viewers.some((v) => v.id === parent)
          ? propagation(parent, seq, depth + 1)
          : plan.latencyMs(plan.broadcasterId, parent);
        return upstream + plan.latencyMs(parent, viewer);
      };
      const allowanceMs = (summary.emulationErrorMs.p99 ?? 0) + HTB_TOLERANCE_MS;
      for (const v of plan.viewers) {
        const mine = rows.filter((r) => r[0] === v.id);
        assert.ok(
          mine.length >= (plan.durationS * 1e6) / plan.stream.chunkDurationUs / 2,
          `${v.id} received ${mine.length} chunks`,
        );
        const delay = median(mine.map((r) => Number(r[4])));
        const prop = median(mine.map((r) => propagation(v.id, r[1]!)));
        const ser = median(mine.map((r) => chunkBits / plan.bottleneckBps(r[8]!, v.id))) * 1000;
        assert.ok(Number.isFinite(prop), `${v.id}: parent chain resolves`);
        // Never earlier than the light could get there: the emulated latency was applied.
        assert.ok(delay >= prop - 1, `${v.id}: median delay ${delay} ms < path latency ${prop} ms`);
        assert.ok(
          delay <= prop + ser + allowanceMs,
          `${v.id}: median delay ${delay} ms > latency ${prop} + serialization ${ser.toFixed(1)} + allowance ${allowanceMs.toFixed(1)} ms`,
        );
      }
    });

    it(`${mode}: htb is configured for each link's rate, without the kernel's "quantum is big" warning`, () => {
      const log = readFileSync(join(out, 'run', mode, 'logs', 'mininet.log'), 'utf8');
      assert.doesNotMatch(log, /quantum of class|\*\*\* Error/);
    });

    it(`${mode}: the chunks crossed the hosts' veths`, () => {
      const { summary, record, rows } = read();
      // Real payload: every byte of every chunk crossed the viewer's veth (a virtual one would be headers only).
      const minBytesPerChunk = plan.stream.chunkBytes;
      for (const v of plan.viewers) {
        const got = rows.filter((r) => r[0] === v.id).length;
        const c = record.counters[v.id]!;
        assert.match(c.intf, /-eth0$/);
        assert.ok(
          c.rxBytes >= got * minBytesPerChunk,
          `${v.id}: ${c.rxBytes} B received on ${c.intf} for ${got} chunks`,
        );
      }
      // Every chunk left the origin's host at least once (to the edge).
      const origin = record.counters[plan.originId]!;
      const produced = Math.max(...rows.map((r) => Number(r[1]))) + 1;
      assert.ok(
        origin.txBytes >= produced * minBytesPerChunk,
        `origin sent ${origin.txBytes} B for ${produced} chunks`,
      );
      assert.ok(summary.chunks > 0);
    });
  }

  it('leaves no interface, namespace or process behind', () => {
    const now = snapshot(out);
    const newIntfs = [...now.intfs].filter((i) => !beforeRun.intfs.has(i));
    assert.deepEqual(
      newIntfs.filter((i) => /^[hs]\d{3,}(-eth\d+)?$/.test(i)),
      [],
    );
    assert.deepEqual(
      [...now.netns].filter((n) => !beforeRun.netns.has(n)),
      [],
    );
    assert.deepEqual(now.ours, []);
  });
});

describe('mininet backend without root', { skip: !isRoot && 'needs root to drop to an unprivileged user' }, () => {
  it('says so in one line', () => {
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        CLI,
        'run',
        'small',
        '--backend',
        'mininet',
        '--out',
        join(tmpdir(), 'livepath-noroot'),
      ],
      { encoding: 'utf8' },
    );
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr, 'livepath: the mininet backend needs root: run with sudo\n');
  });
});
