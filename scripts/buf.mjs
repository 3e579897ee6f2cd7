// Runs the buf binary shipped by @bufbuild/buf with the given arguments (lint, generate, breaking).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const buf = require.resolve('@bufbuild/buf/bin/buf');
const r = spawnSync(buf, process.argv.slice(2), { stdio: 'inherit' });
process.exit(r.status ?? 1);
