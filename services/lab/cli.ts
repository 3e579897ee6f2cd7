// The `livepath` command: run an experiment, validate a scenario, re-render a report, and the
// service roles (origin, edge, tracker, peers) that the lab, Mininet hosts and Kubernetes pods run.
// Each command is a file in commands/; what a command runs is imported when it runs, so a service
// process (eight start per run) loads its own code only, not the report's charts or the
// Kubernetes client (~3 s of CPU each).
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { Command } from 'commander';
import { packageFile } from '../runtime/package.js';
import * as compareBackends from './commands/compare-backends.js';
import * as dashboards from './commands/dashboards.js';
import * as edge from './commands/edge.js';
import * as exportCommand from './commands/export.js';
import * as ingest from './commands/ingest.js';
import * as origin from './commands/origin.js';
import * as peers from './commands/peers.js';
import * as play from './commands/play.js';
import * as probe from './commands/probe.js';
import * as report from './commands/report.js';
import * as run from './commands/run.js';
import * as sim from './commands/sim.js';
import * as sweep from './commands/sweep.js';
import * as tracker from './commands/tracker.js';
import * as up from './commands/up.js';
import * as validate from './commands/validate.js';

// grpc-js prints its own errors (e.g. "No address added") on stderr; ours say what to do instead.
if (process.env.LIVEPATH_LOG_LEVEL !== 'debug') grpc.setLogVerbosity(grpc.logVerbosity.NONE);

const PACKAGE_VERSION = (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;

const program = new Command('livepath')
  .description(
    'Measure how close each live-stream chunk gets to its physical bound on the CDN path ' +
      '(origin → edge → viewer) and on the peer path (viewers relaying to nearby viewers). ' +
      'Start with `livepath run` (the shipped world scenario, both paths side by side).',
  )
  .version(PACKAGE_VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (s, write) => write(s) });

// In the order `livepath --help` lists them.
for (const command of [
  run,
  sim,
  sweep,
  compareBackends,
  dashboards,
  exportCommand,
  report,
  validate,
  origin,
  edge,
  tracker,
  peers,
  up,
  probe,
  ingest,
  play,
]) {
  command.register(program);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const err = e as Error;
  process.stderr.write(`livepath: ${err.message}\n`);
  if (process.env.LIVEPATH_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exit(2);
}
