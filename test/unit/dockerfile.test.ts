// The Dockerfile and .dockerignore, checked without a Docker engine: no Dockerfile linter is
// available from npm's installed deps or Debian here (no hadolint), so the hadolint rules that
// matter for this image are checked directly, plus that the runtime stage ships what the package needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseDockerfile } from '../helpers/dockerfile.js';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1)!;
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { files: string[]; bin: Record<string, string> };

/** package.json "files" entries deliberately left out of the image, and why. */
const NOT_IN_IMAGE: Record<string, string> = {
  charts: 'the Helm chart is installed from outside the cluster, not run inside a pod',
  containernet: 'Python topology scripts that run on a Mininet/Containernet host, not in the image',
};

test('the parser sees both stages (guards the checks below against parsing nothing)', () => {
  assert.deepEqual(
    stages.map((s) => s.name),
    ['build', 'ffmpeg', 'runtime'],
  );
  assert.ok(parseDockerfile('FROM a:1 AS x\nRUN a \\\n  b\n').at(0)!.instructions[0]!.args === 'a  b');
});

test('base images are pinned: an explicit tag or digest, never latest (hadolint DL3006/DL3007)', () => {
  const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));
  for (const s of stages) {
    if (stageNames.has(s.from)) continue;
    assert.match(s.from, /(:[\w.-]+|@sha256:[0-9a-f]{64})$/, `${s.from} has no tag`);
    assert.doesNotMatch(s.from, /:latest$/, `${s.from} uses latest`);
  }
  assert.match(stages[0]!.from, /^node:20[.\d]*-bookworm-slim$/);
});

test('the runtime stage runs as a numeric non-root user (DL3002; lets kubelet verify runAsNonRoot)', () => {
  const users = runtime.instructions.filter((i) => i.keyword === 'USER');
  assert.ok(users.length > 0, 'runtime stage has no USER');
  const user = users.at(-1)!.args.split(':')[0]!;
  assert.match(user, /^\d+$/);
  assert.notEqual(Number(user), 0);
});

test('ENTRYPOINT and CMD use the exec form and run the livepath CLI (DL3025)', () => {
  const entry = runtime.instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1);
  const cmd = runtime.instructions.filter((i) => i.keyword === 'CMD').at(-1);
  assert.ok(entry && cmd);
  const entryArgs = JSON.parse(entry.args) as string[];
  assert.equal(entryArgs.at(-1), `/app/${pkg.bin.livepath}`);
  assert.deepEqual(JSON.parse(cmd.args), ['--help']);
});

test('no ADD, no npm install, absolute WORKDIR, COPY --from names a stage (DL3020, DL3000, DL3022)', () => {
  const names = stages.map((s) => s.name);
  for (const s of stages) {
    for (const i of s.instructions) {
      assert.notEqual(i.keyword, 'ADD', `line ${i.line}: use COPY`);
      if (i.keyword === 'RUN')
        assert.doesNotMatch(i.args, /npm (install|i)\b/, `line ${i.line}: use npm ci (lockfile)`);
      if (i.keyword === 'WORKDIR') assert.match(i.args, /^\//, `line ${i.line}`);
      const from = /--from=(\S+)/.exec(i.args);
      if (i.keyword === 'COPY' && from) assert.ok(names.includes(from[1]), `line ${i.line}: unknown stage ${from[1]}`);
    }
  }
  const buildRuns = stages[0]!.instructions
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.args)
    .join('\n');
  assert.match(buildRuns, /npm ci/);
  assert.match(buildRuns, /npm run build/);
  assert.match(buildRuns, /npm prune --omit=dev/);
});

test('the runtime stage copies what the package needs at run time', () => {
  const copied = new Set(
    runtime.instructions
      .filter((i) => i.keyword === 'COPY' && i.args.includes('--from=build'))
      .map((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))[0]!
          .replace(/^\/app\//, ''),
      ),
  );
  for (const needed of ['package.json', 'node_modules', 'dist', ...pkg.files]) {
    if (needed in NOT_IN_IMAGE) continue;
    assert.ok(
      copied.has(needed),
      `runtime stage does not COPY ${needed} (a package.json "files" entry or runtime need); copy it or add it to NOT_IN_IMAGE with a reason`,
    );
  }
  for (const excluded of Object.keys(NOT_IN_IMAGE)) {
    assert.ok(pkg.files.includes(excluded), `NOT_IN_IMAGE lists ${excluded}, which package.json "files" no longer has`);
  }
  // Nothing but build output and production modules: no sources, no tests, no dev tooling.
  for (const c of copied) assert.ok(!['services', 'test', 'src', '.'].includes(c), `runtime copies ${c}`);
});

test('.dockerignore keeps host build output, modules and secrets out of the build context', () => {
  const ignored = readFileSync('.dockerignore', 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const p of ['node_modules', 'dist', '.git', '.tools', 'results', '.env']) {
    assert.ok(ignored.includes(p), `.dockerignore should list ${p}`);
  }
  // Everything the build stage compiles must stay in the context.
  for (const p of [
    'services',
    'bin',
    'proto',
    'scenarios',
    'grafana',
    'package.json',
    'package-lock.json',
    'tsconfig.json',
  ]) {
    assert.ok(!ignored.includes(p), `.dockerignore must not exclude ${p}`);
  }
});

test('the runtime image carries ffmpeg on PATH: the origin of an rtmp or file scenario runs it', () => {
  const copies = runtime.instructions.filter((i) => i.keyword === 'COPY' && i.args.includes('--from=ffmpeg'));
  assert.deepEqual(
    copies.map((i) => i.args.split(/\s+/).at(-1)),
    ['/usr/local/bin/ffmpeg'],
  );
  const ffmpeg = stages.find((s) => s.name === 'ffmpeg')!;
  assert.match(ffmpeg.from, /^mwader\/static-ffmpeg:\d+\.\d+(\.\d+)?$/, 'a static build, pinned');
});
