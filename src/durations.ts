const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;

/** Parses `30s`, `1m`, `12h`, `7d` (and `250ms`) to milliseconds; null when malformed. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  const unit = m[2] as keyof typeof UNIT_MS;
  return Number(m[1]) * UNIT_MS[unit];
}

export function addMs(at: Date, ms: number): Date {
  return new Date(at.getTime() + ms);
}
