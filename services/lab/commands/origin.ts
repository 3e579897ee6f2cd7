// `livepath origin`: the service role of the origin and its broadcaster.
import { type Command, Option } from 'commander';
import { resolveScenario, type ServiceCliOptions, serviceCommand } from './common.js';

export function register(program: Command): void {
  serviceCommand(
    program,
    'origin',
    'service role: the origin with its broadcaster (synthetic, or real video over RTMP / from a file)',
  )
    .option('--node <id>', "origin id in the scenario (default: the scenario's origin)")
    .addOption(
      new Option('--ingest <kind>', "broadcaster (default: the scenario's stream.source, else synthetic)").choices([
        'synthetic',
        'rtmp',
        'file',
      ]),
    )
    .option('--input <path>', 'file source: a video file or lavfi:<filtergraph>')
    .option('--rtmp-url <url>', 'rtmp source: the stream to pull (default: start nginx-rtmp here)')
    .option('--stream-key <key>', 'rtmp source: the key a broadcaster must publish with')
    .option(
      '--ingest-gate <url>',
      'rtmp source: the on_publish gate of `livepath ingest` (when the push began, for the ingest delay)',
    )
    .option('--record <dir>', 'write the chunks the origin produced to <dir>/origin.ts')
    .addOption(
      new Option(
        '--signing-key <file>',
        "the origin's Ed25519 private key (PKCS#8 PEM); default: a key pair made at start, its public half logged as originKey",
      ).env('LIVEPATH_SIGNING_KEY'),
    )
    .action(async (o: ServiceCliOptions & { ingest?: 'synthetic' | 'rtmp' | 'file' }) => {
      // --ingest is the ingest's `kind` (IngestOptions): a flag the origin silently ignored once.
      const { ingest, ...rest } = o;
      await (await import('../../origin/main.js')).runOrigin({
        ...rest,
        kind: ingest,
        scenario: resolveScenario(o.scenario),
      });
    });
}
