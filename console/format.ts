/**
 * How the console writes times, spans and sizes for people: every time with its
 * zone, spans in hours and minutes, audio in kB/MB. Pure, so unit tests pin it.
 */
export interface Zone {
  locale?: string;
  timeZone?: string;
}

const TIME: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
};

/** "1 Dec 2026, 07:00 GMT+1": a time in the reader's zone, the zone named. */
export function formatTime(iso: string | null | undefined, zone: Zone = {}): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(zone.locale, { ...TIME, timeZone: zone.timeZone }).format(d);
}

/** "2 h 5 min", "45 s", "3 d 4 h": the two largest units, rounded down. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const units: [string, number][] = [
    ['d', Math.floor(s / 86_400)],
    ['h', Math.floor(s / 3600) % 24],
    ['min', Math.floor(s / 60) % 60],
    ['s', s % 60],
  ];
  const first = units.findIndex(([, n]) => n > 0);
  if (first === -1) return '0 s';
  return units
    .slice(first, first + 2)
    .filter(([, n]) => n > 0)
    .map(([unit, n]) => `${n} ${unit}`)
    .join(' ');
}

/** How long until (or since) a deadline, in words. */
export function untilText(iso: string, now: number): string {
  const ms = Date.parse(iso) - now;
  return ms >= 0 ? `in ${formatSpan(ms)}` : `${formatSpan(-ms)} ago`;
}

/** Bytes a person can read: "812 B", "250.4 kB", "3.1 MB" (decimal units, as players show them). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** Each stored chunk carries a 1-byte version, a 24-byte nonce and a 16-byte tag around its audio (SPEC Crypto). */
export const CHUNK_OVERHEAD = 1 + 24 + 16;

/** The audio bytes the phone recorded, from what the vault stores. */
export function audioBytes(storedBytes: number, storedChunks: number): number {
  return Math.max(0, storedBytes - storedChunks * CHUNK_OVERHEAD);
}

/** The first 16 hex digits in groups of four: what a head compares before signing. */
export function shortDigest(hex: string): string {
  return (hex.slice(0, 16).match(/.{1,4}/g) ?? []).join(' ');
}
