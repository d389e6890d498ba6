export interface BenchMetric {
  value: number;
  unit: string;
  /** the goal as text, e.g. ">= 0.8" */
  goal?: string;
  met?: boolean;
}

export interface BenchSection {
  /** which stores the section ran on, e.g. "postgres+fs" */
  stores: string;
  metrics: Record<string, BenchMetric>;
  notes?: string[];
}

/** From the command line: `npm run bench -- [section...] [--short] [--pairs=fs,s3] [--parts=burst,phones]`. */
export interface BenchOptions {
  /** a quick check of correctness and relative effect (fewer chunks, one round of phones), not figures to report */
  short: boolean;
  /** only the store pairs whose names contain one of these (`fs`, `s3`); empty: all */
  pairs: string[];
  /** only the parts of a section whose names contain one of these (`burst`, `phones`, ...); empty: all */
  parts: string[];
}

const matches = (filter: string[], name: string): boolean =>
  filter.length === 0 || filter.some((f) => name.includes(f));
export const wantedPair = (options: BenchOptions, pair: string): boolean => matches(options.pairs, pair);
export const wantedPart = (options: BenchOptions, part: string): boolean => matches(options.parts, part);

export type BenchRun = (options: BenchOptions) => Promise<BenchSection>;
