// Regenerates every generated artifact: TypeScript from proto/ (buf + ts-proto) into services/gen,
// and, once they exist, the Grafana dashboards JSON. CI runs this and fails on any diff.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

rmSync('services/gen', { recursive: true, force: true });
run(process.execPath, ['scripts/buf.mjs', 'lint']);
run(process.execPath, ['scripts/buf.mjs', 'generate']);
if (existsSync('grafana/build.ts')) {
  run(process.execPath, ['--import', 'tsx', 'grafana/build.ts']);
}
// The chart ships copies of the dashboards and of the nginx-rtmp config.
run(process.execPath, ['scripts/chart-sync.mjs']);
