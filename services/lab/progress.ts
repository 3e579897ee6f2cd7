// Progress of a run on the terminal: a bar when stderr is a TTY, a line every few seconds when
// it is not (CI logs), nothing with --quiet.
import cliProgress from 'cli-progress';

export interface Progress {
  update(mode: string, p: { produced: number; total: number; received: number }): void;
  stop(): void;
}

export function createProgress(enabled: boolean): Progress {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: '{mode} |{bar}| {value}/{total} chunks produced · {received} chunk deliveries recorded',
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let current = '';
    return {
      update(mode, p) {
        if (mode !== current) {
          if (current) bar.stop();
          current = mode;
          bar.start(p.total, p.produced, { mode, received: p.received });
        }
        bar.update(p.produced, { mode, received: p.received });
      },
      stop: () => current && bar.stop(),
    };
  }
  let lastMs = 0;
  return {
    update(mode, p) {
      const now = Date.now();
      if (now - lastMs < 5_000 && p.produced < p.total) return;
      lastMs = now;
      process.stderr.write(`[${mode}] ${p.produced}/${p.total} chunks produced, ${p.received} deliveries recorded\n`);
    },
    stop: () => undefined,
  };
}
