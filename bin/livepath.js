#!/usr/bin/env node
// Entry point of the `livepath` command: runs the compiled CLI from dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/services/lab/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('livepath: not built yet; run `npm ci` (or `npm run build`) in the livepath checkout first\n');
  process.exit(1);
}
await import(cli);
