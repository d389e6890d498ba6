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
