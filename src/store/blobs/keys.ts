const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** Validates an object key or prefix: `/`-joined safe segments, no `..`, no leading `/`. */
export function assertSafeKey(key: string, { prefix = false } = {}): void {
  if (key.length === 0 || key.length > 512) throw new Error('object key must be 1..512 characters');
  const parts = key.split('/');
  parts.forEach((part, i) => {
    const trailingEmpty = prefix && i === parts.length - 1 && part === '';
    if (trailingEmpty) return;
    if (!SEGMENT.test(part) || part.includes('..')) throw new Error('object key has an unsafe segment');
  });
}
