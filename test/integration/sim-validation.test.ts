// The simulator against the emulation (issue 15): the small and churn scenarios, each run as a
// user runs it (`livepath run`) and simulated (`livepath sim`), per mode and path: median delay
// within 5 %, p95 within 10 %, offload within 2 points, the same lost chunks.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { agreement, formatAgreement } from '../../services/lab/sim/agreement.js';
import { readJson, runCli, tempDir } from '../helpers/cli.js';

for (const scenario of ['small', 'churn']) {
  test(`${scenario}: the simulator agrees with the local emulation`, async () => {
    const dir = tempDir(`sim-${scenario}`);
    const emu = await runCli(['run', scenario, '--out', join(dir, 'emu'), '--quiet'], { timeoutMs: 300_000 });
    assert.equal(emu.code, 0, emu.stderr);
    const sim = await runCli(['sim', scenario, '--out', join(dir, 'sim'), '--quiet'], { timeoutMs: 120_000 });
    assert.equal(sim.code, 0, sim.stderr);
    assert.match(sim.stdout, /report: .*report\.html/);
    const modes = agreement(
      readJson(join(dir, 'emu', 'comparison.json')),
      readJson(join(dir, 'sim', 'comparison.json')),
    );
    assert.deepEqual(
      modes.map((m) => m.mode),
      ['cdn', 'p2p'],
    );
    const text = formatAgreement(scenario, modes);
    process.stdout.write(`${text}\n`);
    for (const m of modes) assert.ok(m.ok, text);
  });
}
