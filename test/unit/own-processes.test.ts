// Tests and scripts stop only the processes they started (by their pid), never every process of a
// name: `pkill -x prometheus` in scripts/test.sh ended a Prometheus the user ran for other work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('no script, test or service kills processes by name', () => {
  const offenders: string[] = [];
  for (const f of [...files('scripts'), ...files('test'), ...files('services'), '.ci/run', 'package.json']) {
    if (f === join('test', 'unit', 'own-processes.test.ts')) continue;
    const text = readFileSync(f, 'utf8');
    for (const [i, line] of text.split('\n').entries())
      if (/\b(pkill|killall)\b|kill\s+\$\(pgrep/.test(line)) offenders.push(`${f}:${i + 1}: ${line.trim()}`);
  }
  assert.deepEqual(offenders, []);
});
