// `livepath report [dir]`: re-renders report.html from the files of a finished run (or sweep).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('report')
    .description('re-render report.html from the files of a finished run')
    .argument('[dir]', 'results directory', 'results/latest')
    .action(async (dir: string) => {
      const written = existsSync(join(dir, 'sweep.json'))
        ? await (await import('../report/sweep.js')).renderSweepReport(dir)
        : await (await import('../report/render.js')).renderReport(dir);
      process.stdout.write(`${written}\n`);
    });
}
