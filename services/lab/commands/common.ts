// What the commands share: argument parsers, the scenario argument (a path or a shipped name),
// and the options every service role takes.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { LINK_SHAPINGS, type LinkShaping, type Mode, PAYLOADS, type Payload } from '../../core/types.js';
import { PACKAGE_ROOT } from '../../runtime/package.js';

export const DEFAULT_SCENARIO = 'world';

/** A bad argument the user can fix; printed as one line. */
export class CliError extends Error {}

/** `--mode cdn|p2p|both`: the paths a command measures; `both` runs them side by side (one option for every command). */
export function modeOption(description: string): Option {
  return new Option('--mode <mode>', description).choices(['cdn', 'p2p', 'both']).default('both');
}

/** The modes a `--mode` value names, in the order they run. */
export function modesOf(mode: string): Mode[] {
  return mode === 'both' ? ['cdn', 'p2p'] : [mode as Mode];
}

export function positiveInt(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a non-negative integer (got "${v}")`);
    return n;
  };
}

/** A scenario argument: a path, or the name of a scenario shipped in scenarios/. */
export function resolveScenario(arg: string | undefined): string {
  const name = arg ?? DEFAULT_SCENARIO;
  if (existsSync(name)) return resolve(name);
  const shipped = join(PACKAGE_ROOT, 'scenarios', name.endsWith('.yaml') ? name : `${name}.yaml`);
  if (existsSync(shipped)) return shipped;
  throw new CliError(
    `scenario "${name}" not found: give a path to a .yaml file or the name of one in ${join(PACKAGE_ROOT, 'scenarios')}`,
  );
}

/** Options every service role takes. */
export function serviceCommand(program: Command, name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .requiredOption('--scenario <file>', 'scenario file (the same one every process of the run uses)')
    .option('--seed <n>', 'override the scenario seed', positiveInt('--seed'))
    .option('--listen <host:port>', 'gRPC listen address (port 0 = any free port)', '0.0.0.0:7000')
    .addOption(new Option('--out <dir>', 'directory for raw records').env('LIVEPATH_RESULTS_DIR'))
    .option('--proc <name>', 'name of this process in logs and raw files', name)
    .option(
      '--metrics-port <n>',
      'serve Prometheus metrics on this port (0 = any free port)',
      positiveInt('--metrics-port'),
      9464,
    )
    .option('--metrics-host <addr>', 'address the metrics server listens on (default: the host of --listen)')
    .addOption(
      new Option(
        '--control <how>',
        'stdio: driven by the lab over stdin/stdout; standalone: start now, stop on SIGTERM',
      )
        .choices(['stdio', 'standalone'])
        .default('standalone'),
    )
    .addOption(
      new Option(
        '--link-shaping <how>',
        'linkemu: latency + bandwidth in user space; delay-only: latency here, bandwidth by the kernel (htb); kernel: the network does both (netem)',
      )
        .choices(LINK_SHAPINGS)
        .default('linkemu')
        .env('LIVEPATH_LINK_SHAPING'),
    )
    .addOption(
      new Option(
        '--payload <kind>',
        "synthetic chunks: virtual (only their size travels) or real (bytes a kernel can shape); default: the scenario's stream.payload, else virtual",
      )
        .choices(PAYLOADS)
        .env('LIVEPATH_PAYLOAD'),
    )
    .addOption(
      new Option(
        '--origin-key <base64>',
        "the origin's Ed25519 public key (the origin logs it as originKey): every fragment is verified against it",
      ).env('LIVEPATH_ORIGIN_KEY'),
    );
}

export interface ServiceCliOptions {
  scenario: string;
  seed?: number;
  listen: string;
  out?: string;
  proc: string;
  control: 'stdio' | 'standalone';
  linkShaping: LinkShaping;
  payload?: Payload;
  metricsPort: number;
  metricsHost?: string;
  originKey?: string;
}
