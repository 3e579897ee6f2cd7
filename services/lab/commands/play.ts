// `livepath play <dir> <viewer>`: plays what a viewer received (its --record .ts) with ffplay or
// mpv — piped, and with --follow while the run is still writing it, so a live viewer can be watched.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type Command, Option } from 'commander';

/** --follow stops when the recording has not grown for this long (the run ended). */
export const FOLLOW_IDLE_MS = 5_000;
const FOLLOW_POLL_MS = 100;
/** How deep below <dir> recordings are looked for: DIR/<viewer>.ts, DIR/<mode>/<viewer>.ts, results/<run>/record/<mode>/… */
const SEARCH_DEPTH = 3;

export class PlayError extends Error {}

export interface PlayOptions {
  player?: 'ffplay' | 'mpv';
  follow?: boolean;
  /** print streams and duration (ffprobe) instead of playing: for machines without a display */
  probe?: boolean;
}

/** The recordings named <viewer>.ts under `dir`. */
export function findRecordings(dir: string, viewer: string, depth = SEARCH_DEPTH): string[] {
  if (!existsSync(dir)) throw new PlayError(`no such directory: ${dir}`);
  const found: string[] = [];
  const walk = (d: string, left: number) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isFile() && e.name === `${viewer}.ts`) found.push(join(d, e.name));
      else if (e.isDirectory() && left > 0) walk(join(d, e.name), left - 1);
    }
  };
  walk(dir, depth);
  return found.sort();
}

function hasCommand(cmd: string): boolean {
  return spawnSync(cmd, ['-version'], { stdio: 'ignore' }).error === undefined;
}

export function choosePlayer(wanted?: 'ffplay' | 'mpv'): 'ffplay' | 'mpv' {
  const candidates = wanted ? [wanted] : (['ffplay', 'mpv'] as const);
  for (const c of candidates) if (hasCommand(c)) return c;
  throw new PlayError(
    wanted
      ? `${wanted} is not installed — fix: apt-get install ${wanted === 'ffplay' ? 'ffmpeg' : 'mpv'}, or leave out --player`
      : 'neither ffplay nor mpv is installed — fix: apt-get install ffmpeg (ffplay) or mpv; or open the .ts file in any player (VLC plays it)',
  );
}

export async function runPlay(dir: string, viewer: string, o: PlayOptions): Promise<void> {
  const files = findRecordings(dir, viewer);
  if (files.length === 0)
    throw new PlayError(
      `no recording of "${viewer}" under ${dir} — record one with \`livepath run … --record ${dir}\``,
    );
  if (files.length > 1) {
    throw new PlayError(
      `"${viewer}" was recorded more than once (one per mode): give the directory of one: ${files.map((f) => relative(process.cwd(), f)).join(', ')}`,
    );
  }
  const file = files[0]!;
  if (o.probe) {
    const r = spawnSync('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_type,codec_name:format=duration',
      '-of',
      'compact',
      file,
    ]);
    if (r.error) throw new PlayError('ffprobe is not installed — fix: apt-get install ffmpeg');
    process.stdout.write(`${file}\n${r.stdout.toString()}${r.stderr.toString()}`);
    if (r.status !== 0) process.exitCode = 1;
    return;
  }
  const player = choosePlayer(o.player);
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY && process.platform === 'linux') {
    throw new PlayError(
      `no display (DISPLAY is not set) for ${player} — play ${file} on a machine with a screen, or check it here with --probe`,
    );
  }
  const args =
    player === 'ffplay'
      ? ['-hide_banner', '-loglevel', 'warning', '-autoexit', '-window_title', `livepath ${viewer}`, '-i', 'pipe:0']
      : ['--really-quiet', `--title=livepath ${viewer}`, '-'];
  process.stderr.write(
    `livepath: playing ${file} with ${player}${o.follow ? ' (following while the run writes it)' : ''}\n`,
  );
  const child = spawn(player, args, { stdio: ['pipe', 'inherit', 'inherit'] });
  child.stdin.on('error', () => undefined); // the player was closed: stop feeding it
  await pipeFile(file, child.stdin, o.follow ?? false);
  child.stdin.end();
  await new Promise<void>((r) => child.on('close', () => r()));
}

/** Copies `file` to `out`; with `follow`, keeps copying what is appended until it stops growing. */
async function pipeFile(
  file: string,
  out: NodeJS.WritableStream & { destroyed?: boolean },
  follow: boolean,
): Promise<void> {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 16);
  let pos = 0;
  let idleSince = Date.now();
  try {
    for (;;) {
      if (out.destroyed) return;
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n > 0) {
        pos += n;
        idleSince = Date.now();
        if (!out.write(Buffer.from(buf.subarray(0, n)))) await new Promise((r) => out.once('drain', r));
        continue;
      }
      if (!follow || Date.now() - idleSince > FOLLOW_IDLE_MS || statSync(file).size < pos) return;
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
  } finally {
    closeSync(fd);
  }
}

export function register(program: Command): void {
  program
    .command('play')
    .description('play what a viewer received (recorded with --record) in ffplay or mpv')
    .argument('<dir>', 'the --record directory, or a results directory holding it')
    .argument('<viewer>', 'viewer id (or "origin")')
    .addOption(new Option('--player <player>', 'which player').choices(['ffplay', 'mpv']))
    .option('--follow', 'keep playing while a running experiment writes the recording (a live viewer)')
    .option('--probe', 'print the streams and duration (ffprobe) instead of playing')
    .action((dir: string, viewer: string, o: { player?: 'ffplay' | 'mpv'; follow?: boolean; probe?: boolean }) =>
      runPlay(dir, viewer, o),
    );
}
