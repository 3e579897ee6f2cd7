// The image, built as far as this machine can without a Docker engine or a registry: the
// Dockerfile's stages are executed instruction by instruction on a copy of the build context
// (.dockerignore applied) — the build stage's `npm ci`, `tsc` and `npm prune` for real, the
// runtime stage's COPY list into an image root — and the result is run as the image's
// ENTRYPOINT runs it, with NODE_ENV=production and only production dependencies: `--help`, a
// scenario check, and a standalone origin that turns ready. What needs a registry (the base
// images, the static ffmpeg) is named, not built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { grpcHealth } from '../../services/lab/up/probes.js';
import { parseDockerfile, type Stage } from '../helpers/dockerfile.js';
import { ROOT, startStandalone, tempDir } from '../helpers/cli.js';

const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));

/** .dockerignore as a matcher of context-relative paths (the patterns this repo uses: names and *). */
function dockerignore(): (rel: string) => boolean {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`));
  return (rel) => patterns.some((re) => re.test(rel));
}

/** A path inside the image, under the stage's root directory here. */
const inside = (root: string, workdir: string, p: string) => join(root, p.startsWith('/') ? p : join(workdir, p));

test('the Dockerfile builds as far as it can here, and the image runs a role on its production dependencies', {
  timeout: 600_000,
}, async () => {
  const dir = tempDir('image');
  const context = join(dir, 'context');
  const ignored = dockerignore();
  cpSync(ROOT, context, {
    recursive: true,
    filter: (src) => {
      const rel = relative(ROOT, src);
      return rel === '' || !ignored(rel);
    },
  });
  assert.ok(
    !existsSync(join(context, 'node_modules')) && existsSync(join(context, 'services')),
    'context = sources only',
  );

  const roots = new Map<string, string>();
  const notBuilt: string[] = [];
  let entrypoint: string[] = [];
  let env: Record<string, string> = {};
  for (const [i, stage] of stages.entries()) {
    const root = join(dir, `stage-${i}-${stage.name ?? 'unnamed'}`);
    const base = baseImage(stage);
    if (base === 'registry') {
      notBuilt.push(`${stage.name}: FROM ${stage.from} (pulled from a registry)`);
      continue;
    }
    mkdirSync(root, { recursive: true });
    if (stage.name) roots.set(stage.name, root);
    let workdir = '/';
    env = {};
    for (const ins of stage.instructions) {
      switch (ins.keyword) {
        case 'WORKDIR':
          workdir = ins.args;
          mkdirSync(inside(root, '/', workdir), { recursive: true });
          break;
        case 'ENV': {
          const [k, ...v] = ins.args.split('=');
          env[k!] = v.join('=');
          break;
        }
        case 'COPY': {
          const words = ins.args.split(/\s+/);
          const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
          const [dest, ...srcs] = words.filter((w) => !w.startsWith('--')).reverse();
          const srcRoot = from ? roots.get(from) : context;
          if (!srcRoot) {
            notBuilt.push(`COPY --from=${from} ${srcs.join(' ')} (stage ${from} comes from a registry)`);
            break;
          }
          for (const src of srcs.reverse()) {
            const source = from ? inside(srcRoot, '/', src) : join(srcRoot, src);
            assert.ok(existsSync(source), `line ${ins.line}: COPY ${src}: no such file in ${from ?? 'the context'}`);
            const target = inside(root, workdir, dest!);
            const toDir = dest!.endsWith('/') || srcs.length > 1 || src === '.';
            const out = toDir && !statSync(source).isDirectory() ? join(target, src.split('/').pop()!) : target;
            mkdirSync(dirname(out), { recursive: true });
            cpSync(source, out, { recursive: true });
          }
          break;
        }
        case 'RUN': {
          const r = spawnSync('sh', ['-c', ins.args], {
            cwd: inside(root, '/', workdir),
            encoding: 'utf8',
            // No registry needed for what the lockfile pins and the cache holds.
            env: { ...process.env, ...env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
            maxBuffer: 64 * 1024 * 1024,
          });
          assert.equal(r.status, 0, `line ${ins.line}: RUN ${ins.args}\n${r.stdout}${r.stderr}`);
          break;
        }
        case 'ENTRYPOINT':
          entrypoint = JSON.parse(ins.args) as string[];
          break;
      }
    }
  }
  assert.deepEqual(
    notBuilt,
    [
      'ffmpeg: FROM mwader/static-ffmpeg:7.1.1 (pulled from a registry)',
      'COPY --from=ffmpeg /ffmpeg (stage ffmpeg comes from a registry)',
    ],
    'only what needs a registry is left out',
  );

  // The image as its ENTRYPOINT runs it: the distroless base's node is this machine's node 20.
  const image = roots.get('runtime')!;
  assert.equal(entrypoint[0], '/nodejs/bin/node');
  const cli = inside(image, '/', entrypoint[1]!);
  const prodEnv = { ...process.env, ...env };
  assert.ok(!existsSync(join(image, 'app', 'node_modules', 'typescript')), 'dev dependencies pruned');
  const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8', env: prodEnv });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Usage: livepath/);
  const validate = spawnSync(process.execPath, [cli, 'validate', join(image, 'app', 'scenarios', 'world.yaml')], {
    encoding: 'utf8',
    env: prodEnv,
  });
  assert.equal(validate.status, 0, validate.stderr);
  // A role as the chart starts it, from the image's files only: it streams, so it is ready.
  const origin = await startStandalone(
    [
      'origin',
      '--scenario',
      join(image, 'app', 'scenarios', 'small.yaml'),
      '--listen',
      '127.0.0.1:0',
      '--metrics-port',
      '0',
    ],
    { cli, env: prodEnv },
  );
  try {
    const [host, port] = [
      origin.address.slice(0, origin.address.lastIndexOf(':')),
      Number(origin.address.split(':').pop()),
    ];
    let last = '';
    for (let i = 0; i < 50 && !last.endsWith(': SERVING'); i++) {
      last = (await grpcHealth(host, port)).message;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(last, /: SERVING$/, origin.log());
  } finally {
    await origin.stop();
  }
  assert.ok(readdirSync(join(image, 'app')).includes('dist'));
});

/** How a stage's base image is had here: this machine's node for node:20 images, else a registry. */
function baseImage(stage: Stage): 'node' | 'registry' {
  if (/^node:20[.\d]*-/.test(stage.from)) {
    assert.equal(process.versions.node.split('.')[0], '20', 'the build stage is node 20: run the tests on node 20');
    return 'node';
  }
  // distroless nodejs20: its node is this machine's node (the ENTRYPOINT names /nodejs/bin/node).
  if (/^gcr\.io\/distroless\/nodejs20/.test(stage.from)) return 'node';
  return 'registry';
}
