// The simulator against the emulation (issue 15): the small and churn scenarios, each run as a
// user runs it (`livepath run`) and simulated (`livepath sim`), per mode and path: median delay
// within 5 %, p95 within 10 %, offload within 2 points, the same lost chunks.
import assert from 'node:assert/strict';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { agreement, formatAgreement, unfaithful } from '../../services/lab/sim/agreement.js';
import { runCli, tempDir } from '../helpers/cli.js';

for (const scenario of ['small', 'churn']) {
  test(`${scenario}: the simulator agrees with the local emulation`, async () => {
    const dir = tempDir(`sim-${scenario}`);
    // The emulation is the reference only when it kept to its model: an overloaded machine
    // delivers chunks late (emulation error). One more try then; a second overloaded run fails.
    let overloaded: string | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const emu = await runCli(['run', scenario, '--out', join(dir, `emu-${attempt}`), '--quiet'], {
        timeoutMs: 300_000,
      });
      assert.equal(emu.code, 0, emu.stderr);
      overloaded = await unfaithful(join(dir, `emu-${attempt}`));
      if (!overloaded) {
        await rename(join(dir, `emu-${attempt}`), join(dir, 'emu'));
        break;
      }
      process.stdout.write(`${scenario}: ${overloaded}; running it again\n`);
    }
    assert.equal(overloaded, undefined, `the emulation cannot be compared: ${overloaded}`);
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
    for (const m of modes) assert.ok(m.ok, text);
  });
}
