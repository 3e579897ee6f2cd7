// Types for scripts/chart-sync.mjs so TypeScript tests can import it under `strict`.
export declare const defaultSourceDir: string;
export declare const defaultChartDir: string;
export declare function syncDashboards(opts?: { check?: boolean; sourceDir?: string; chartDir?: string }): {
  added: string[];
  changed: string[];
  removed: string[];
  inSync: boolean;
};
