// The Mininet/Containernet scripts are Python: they must at least compile, with the system Python
// that Debian's mininet is installed for and with whatever python3 comes first on PATH.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'containernet', 'run_scenario.py'))) dir = dirname(dir);
  return dir;
}

const dir = join(repoRoot(), 'containernet');
const scripts = readdirSync(dir).filter((f) => f.endsWith('.py'));
const pythons = ['/usr/bin/python3', 'python3'].filter((p) => spawnSync(p, ['--version']).status === 0);

test('containernet/*.py compile', { skip: pythons.length === 0 && 'no python3 on this machine' }, () => {
  assert.ok(scripts.includes('run_scenario.py'));
  // Compiled into a temporary directory: no __pycache__ left in the checkout.
  const out = mkdtempSync(join(tmpdir(), 'livepath-pyc-'));
  try {
    for (const py of pythons) {
      const code = `import py_compile, sys\nfor i, f in enumerate(sys.argv[1:]): py_compile.compile(f, cfile='${out}/%d.pyc' % i, doraise=True)`;
      const r = spawnSync(py, ['-c', code, ...scripts.map((f) => join(dir, f))], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${py}: ${r.stderr}`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('run_scenario.py refuses a file that is not a livepath topology', {
  skip: !existsSync('/usr/bin/python3') && 'no /usr/bin/python3',
}, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'livepath-topo-'));
  try {
    const bad = join(tmp, 'bad.json');
    spawnSync('sh', ['-c', `echo '{"format": "something-else"}' > ${bad}`]);
    const r = spawnSync('/usr/bin/python3', [join(dir, 'run_scenario.py'), bad, '--control', 'stdio'], {
      encoding: 'utf8',
    });
    if (/No module named 'mininet'/.test(r.stderr)) return; // the import comes first; the integration test says why it skips
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /not a livepath topology/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
