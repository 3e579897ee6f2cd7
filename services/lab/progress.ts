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
  return lineProgress(
    (line) => process.stderr.write(line),
    () => Date.now(),
  );
}

/**
 * Progress as lines (a log, not a terminal): one every few seconds, and the last state of each
 * mode once. Every process reports progress, so the final state arrives several times over.
 */
export function lineProgress(write: (line: string) => void, nowMs: () => number): Progress {
  let lastMs = -Infinity;
  let lastLine = '';
  const finished = new Set<string>();
  return {
    update(mode, p) {
      const done = p.produced >= p.total;
      if (done ? finished.has(mode) : nowMs() - lastMs < 5_000) return;
      const line = `[${mode}] ${p.produced}/${p.total} chunks produced, ${p.received} deliveries recorded\n`;
      if (line === lastLine) return;
      if (done) finished.add(mode);
      lastMs = nowMs();
      lastLine = line;
      write(line);
    },
    stop: () => undefined,
  };
}
