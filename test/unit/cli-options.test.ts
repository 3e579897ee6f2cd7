import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { modeOption, modesOf } from '../../services/lab/commands/common.js';

test('--mode: both runs the CDN path then the peer path; one mode runs alone; anything else is refused', () => {
  assert.deepEqual(modesOf('both'), ['cdn', 'p2p']);
  assert.deepEqual(modesOf('p2p'), ['p2p']);
  const parse = (...argv: string[]) =>
    new Command()
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
      .addOption(modeOption('mode'))
      .parse(argv, { from: 'user' })
      .opts().mode;
  assert.equal(parse(), 'both');
  assert.equal(parse('--mode', 'cdn'), 'cdn');
  assert.throws(() => parse('--mode', 'peer'), /Allowed choices are cdn, p2p, both/);
});
