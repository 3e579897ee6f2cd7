// `livepath ingest`: nginx-rtmp on its own (unprivileged, a free port) for OBS or ffmpeg to push to,
// until Ctrl-C; an origin pulls from it with --rtmp-url and --ingest-gate.
import type { Command } from 'commander';
import { DEFAULT_STREAM_KEY } from '../../origin/ingest/constants.js';
import { IngestServer } from '../../origin/ingest/nginx.js';
import { systemClock } from '../../runtime/clock.js';
import { positiveInt } from './common.js';

export interface IngestCommandOptions {
  port?: number;
  host?: string;
  streamKey?: string;
}

const say = (line: string) => process.stderr.write(`livepath: ${line}\n`);

/** `livepath ingest`: runs nginx-rtmp with the stream-key check until SIGINT/SIGTERM. */
export async function runIngestCommand(o: IngestCommandOptions): Promise<void> {
  const server = new IngestServer(
    { port: o.port, host: o.host, streamKey: o.streamKey },
    { nowUs: systemClock.nowUs, log: say },
  );
  await server.start();
  const key = o.streamKey ?? DEFAULT_STREAM_KEY;
  process.stdout.write(`${server.publishUrl(key)}\n`);
  say(
    `ingest ready — OBS: server ${server.serverUrl}, stream key ${o.streamKey ? key : `${key} (any key is accepted: --stream-key to require one)`}`,
  );
  say(`origin: livepath origin --ingest rtmp --rtmp-url ${server.publishUrl(key)} --ingest-gate ${server.gateUrl} …`);
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    say(`${why}: stopping nginx…`);
    await server.stop();
    say('ingest stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('interrupted'));
  process.once('SIGTERM', () => void stop('terminated'));
  await server.done;
  if (!stopping) {
    say(`nginx exited on its own; see ${server.errorLog}`);
    process.exit(1);
  }
}

export function register(program: Command): void {
  program
    .command('ingest')
    .description('run nginx-rtmp (unprivileged, free port) for a broadcaster to push to, until Ctrl-C')
    .option('--port <n>', 'RTMP port (default: a free one)', positiveInt('--port'))
    .option('--host <addr>', 'address to listen on (0.0.0.0 to take OBS from another machine)', '127.0.0.1')
    .option('--stream-key <key>', 'refuse publishes with any other key')
    .action((o: { port?: number; host: string; streamKey?: string }) => runIngestCommand(o));
}
