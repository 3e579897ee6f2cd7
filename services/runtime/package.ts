// Where this livepath package is, whether its code runs from dist/ or from source (tsx): the
// folder holding bin/livepath.js, so any module finds the shipped files (scenarios, chart,
// scripts, ingest config) without counting its own depth.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'bin', 'livepath.js')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const PACKAGE_ROOT = findPackageRoot();

/** A file shipped with livepath, by its path in the package. */
export function packageFile(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
