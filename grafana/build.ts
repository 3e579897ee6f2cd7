// Writes the dashboards built in code to grafana/dashboards/*.json (run by `npm run gen`).
// The output is deterministic, so CI can regenerate and fail on any diff with the committed files.
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { livepathDashboards } from './dashboards/index.js';

/**
 * The package root: the nearest folder up with a package.json. This module runs both from
 * grafana/ (tsx) and from dist/grafana/ (compiled tests), and the JSON lives only in the source tree.
 */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}: run from a livepath checkout`);
    dir = parent;
  }
  return dir;
}

/** grafana/dashboards/ of the source tree, where the generated JSON is committed. */
export const DASHBOARDS_DIR = path.join(packageRoot(), 'grafana', 'dashboards');

/** File name → file contents, exactly as committed. */
export function renderDashboards(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [file, dashboard] of livepathDashboards()) {
    files.set(file, `${JSON.stringify(dashboard, null, 2)}\n`);
  }
  return files;
}

export async function writeDashboards(dir = DASHBOARDS_DIR): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [file, text] of renderDashboards()) {
    const target = path.join(dir, file);
    await writeFile(target, text);
    written.push(target);
  }
  return written;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  for (const file of await writeDashboards()) console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
