/**
 * HTTP Range over a recording's plaintext (RFC 9110 §14), pure.
 *
 * One byte range is served as 206; a header that names no satisfiable range is
 * 416. Anything we do not serve as a single part (another unit, bad syntax,
 * several ranges) is ignored and the whole body is sent as 200, which RFC 9110
 * allows ("a server MAY ignore the Range header field").
 */
export interface PlainRange {
  /** first byte, inclusive */
  start: number;
  /** last byte, inclusive */
  end: number;
}

export type RangeDecision = { kind: 'full' } | { kind: 'partial'; range: PlainRange } | { kind: 'unsatisfiable' };

const SPEC = /^(\d*)-(\d*)$/;
const MAX_HEADER = 1024;

type Parsed = { kind: 'range'; range: PlainRange } | { kind: 'unsatisfiable' } | { kind: 'invalid' };

function parseSpec(spec: string, total: number): Parsed {
  const m = SPEC.exec(spec.trim());
  if (!m) return { kind: 'invalid' };
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return { kind: 'invalid' };
  if (first === '') {
    // suffix: the last N bytes
    const n = Number(last);
    if (!Number.isSafeInteger(n)) return { kind: 'invalid' };
    if (n === 0 || total === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', range: { start: Math.max(0, total - n), end: total - 1 } };
  }
  const start = Number(first);
  if (!Number.isSafeInteger(start)) return { kind: 'invalid' };
  let end = total - 1;
  if (last !== '') {
    const e = Number(last);
    if (!Number.isSafeInteger(e) || e < start) return { kind: 'invalid' };
    end = Math.min(e, total - 1);
  }
  if (start >= total) return { kind: 'unsatisfiable' };
  return { kind: 'range', range: { start, end } };
}

/** What to send for this Range header over `total` plaintext bytes. */
export function decideRange(header: string | undefined, total: number): RangeDecision {
  if (header === undefined || header.length > MAX_HEADER) return { kind: 'full' };
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'full' };
  const specs = header.slice(eq + 1).split(',');
  const parsed = specs.map((s) => parseSpec(s, total));
  if (parsed.some((p) => p.kind === 'invalid')) return { kind: 'full' };
  const satisfiable = parsed.flatMap((p) => (p.kind === 'range' ? [p.range] : []));
  if (satisfiable.length === 0) return { kind: 'unsatisfiable' };
  if (satisfiable.length > 1) return { kind: 'full' };
  const [range] = satisfiable as [PlainRange];
  return { kind: 'partial', range };
}

export const contentRange = (range: PlainRange, total: number): string => `bytes ${range.start}-${range.end}/${total}`;
export const unsatisfiedRange = (total: number): string => `bytes */${total}`;

/**
 * The chunks a plaintext range touches: decrypt chunks `firstIndex..lastIndex`
 * (positions in `plaintextSizes`, i.e. seqs of a contiguous recording), drop
 * `skip` bytes from the first one and send `length` bytes in all.
 */
export interface ChunkWindow {
  firstIndex: number;
  lastIndex: number;
  skip: number;
  length: number;
}

export function totalLength(plaintextSizes: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < plaintextSizes.length; i++) total += plaintextSizes[i] ?? 0;
  return total;
}

/**
 * Maps an inclusive plaintext range to chunk positions. Without a range every
 * chunk is in the window, empty ones too, so the final chunk is always
 * authenticated and a truncated recording cannot pass as whole.
 * Null when there is no chunk at all.
 */
export function chunkWindow(plaintextSizes: ArrayLike<number>, range: PlainRange | null): ChunkWindow | null {
  if (plaintextSizes.length === 0) return null;
  const total = totalLength(plaintextSizes);
  if (range === null) return { firstIndex: 0, lastIndex: plaintextSizes.length - 1, skip: 0, length: total };
  const { start, end } = range;
  if (start < 0 || end < start || end >= total) throw new RangeError(`range ${start}-${end} is outside 0-${total - 1}`);
  let offset = 0;
  let firstIndex = -1;
  let skip = 0;
  let lastIndex = -1;
  for (let i = 0; i < plaintextSizes.length; i++) {
    const size = plaintextSizes[i] ?? 0;
    const next = offset + size;
    if (firstIndex < 0 && start < next) {
      firstIndex = i;
      skip = start - offset;
    }
    if (end < next) {
      lastIndex = i;
      break;
    }
    offset = next;
  }
  return { firstIndex, lastIndex, skip, length: end - start + 1 };
}
