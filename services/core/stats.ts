// Distributions for summaries: percentiles from an HDR histogram (not from sorting arrays), in
// the units the caller records. Values are kept with 3 significant digits.
import * as hdr from 'hdr-histogram-js';

export interface Distribution {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
  count: number;
}

/** Records non-negative values with a fixed resolution (e.g. 0.001 for ms with µs resolution). */
export class Recorder {
  private readonly histogram: hdr.Histogram;
  private maxValue = -Infinity;

  constructor(private readonly resolution: number) {
    this.histogram = hdr.build({ bitBucketSize: 64, autoResize: true, numberOfSignificantValueDigits: 3 });
  }

  /** Records `value` `count` times (a weight); a count of 0 records nothing. */
  record(value: number, count = 1): void {
    if (!Number.isFinite(value) || count <= 0) return;
    const v = Math.max(0, value);
    this.histogram.recordValueWithCount(Math.round(v / this.resolution), count);
    if (v > this.maxValue) this.maxValue = v;
  }

  /** Compact portable form (HDR compressed base64) for merging across processes; max is null when empty. */
  encode(): { resolution: number; max: number | null; histogram: string } {
    return {
      resolution: this.resolution,
      max: this.count > 0 ? this.maxValue : null,
      histogram: hdr.encodeIntoCompressedBase64(this.histogram),
    };
  }

  /** Adds a histogram produced by `encode()` (same resolution) to this one. */
  merge(encoded: { resolution: number; max: number | null; histogram: string }): void {
    if (encoded.resolution !== this.resolution) throw new Error('cannot merge recorders of different resolution');
    this.histogram.add(hdr.decodeFromCompressedBase64(encoded.histogram));
    if (encoded.max !== null && encoded.max > this.maxValue) this.maxValue = encoded.max;
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  percentile(p: number): number | null {
    if (this.count === 0) return null;
    return round(this.histogram.getValueAtPercentile(p) * this.resolution);
  }

  summary(): Distribution {
    if (this.count === 0) return { p50: null, p95: null, p99: null, max: null, count: 0 };
    return {
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: round(this.maxValue),
      count: this.count,
    };
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
