import { describe, expect, it } from 'vitest';
import { chunkWindow, contentRange, decideRange, totalLength, unsatisfiedRange } from '../../src/domain/byte-ranges.js';

describe('decideRange', () => {
  const total = 1000;
  it('sends the whole body without a Range header', () => {
    expect(decideRange(undefined, total)).toEqual({ kind: 'full' });
  });
  it('serves first-last, open-ended and suffix ranges', () => {
    expect(decideRange('bytes=0-99', total)).toEqual({ kind: 'partial', range: { start: 0, end: 99 } });
    expect(decideRange('bytes=500-', total)).toEqual({ kind: 'partial', range: { start: 500, end: 999 } });
    expect(decideRange('bytes=-100', total)).toEqual({ kind: 'partial', range: { start: 900, end: 999 } });
    expect(decideRange('bytes=999-999', total)).toEqual({ kind: 'partial', range: { start: 999, end: 999 } });
    expect(decideRange('Bytes = 10-19', total)).toEqual({ kind: 'partial', range: { start: 10, end: 19 } });
  });
  it('clamps a last position or suffix beyond the end', () => {
    expect(decideRange('bytes=900-5000', total)).toEqual({ kind: 'partial', range: { start: 900, end: 999 } });
    expect(decideRange('bytes=-5000', total)).toEqual({ kind: 'partial', range: { start: 0, end: 999 } });
  });
  it('is unsatisfiable when the first position is at or past the end, or the suffix is empty', () => {
    expect(decideRange('bytes=1000-', total)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=1000-2000', total)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=-0', total)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=2000-, 3000-', total)).toEqual({ kind: 'unsatisfiable' });
  });
  it('ignores what it does not serve as one part: other units, bad syntax, several ranges', () => {
    for (const h of [
      'items=0-1',
      'bytes=',
      'bytes=-',
      'bytes=5-1',
      'bytes=a-b',
      'bytes 0-1',
      'bytes=0-1-2',
      'bytes=1e3-',
      `bytes=${'9'.repeat(30)}-`,
      'bytes=0-9,20-29',
    ]) {
      expect(decideRange(h, total), h).toEqual({ kind: 'full' });
    }
    expect(decideRange(`bytes=${'0-0,'.repeat(400)}0-0`, total)).toEqual({ kind: 'full' });
  });
  it('serves the one satisfiable range among unsatisfiable ones', () => {
    expect(decideRange('bytes=5000-, 10-19', total)).toEqual({ kind: 'partial', range: { start: 10, end: 19 } });
  });
  it('formats Content-Range', () => {
    expect(contentRange({ start: 0, end: 99 }, total)).toBe('bytes 0-99/1000');
    expect(unsatisfiedRange(total)).toBe('bytes */1000');
  });
});

describe('chunkWindow', () => {
  const sizes = [100, 100, 50, 0, 100];
  it('covers every chunk, empty ones too, without a range', () => {
    expect(totalLength(sizes)).toBe(350);
    expect(chunkWindow(sizes, null)).toEqual({ firstIndex: 0, lastIndex: 4, skip: 0, length: 350 });
    expect(chunkWindow([0], null)).toEqual({ firstIndex: 0, lastIndex: 0, skip: 0, length: 0 });
    expect(chunkWindow([], null)).toBeNull();
  });
  it('picks only the chunks a range touches', () => {
    expect(chunkWindow(sizes, { start: 0, end: 99 })).toEqual({ firstIndex: 0, lastIndex: 0, skip: 0, length: 100 });
    expect(chunkWindow(sizes, { start: 100, end: 100 })).toEqual({ firstIndex: 1, lastIndex: 1, skip: 0, length: 1 });
    expect(chunkWindow(sizes, { start: 99, end: 100 })).toEqual({ firstIndex: 0, lastIndex: 1, skip: 99, length: 2 });
    expect(chunkWindow(sizes, { start: 210, end: 260 })).toEqual({ firstIndex: 2, lastIndex: 4, skip: 10, length: 51 });
    expect(chunkWindow(sizes, { start: 250, end: 349 })).toEqual({ firstIndex: 4, lastIndex: 4, skip: 0, length: 100 });
  });
  it('refuses a range outside the recording', () => {
    expect(() => chunkWindow(sizes, { start: 0, end: 350 })).toThrow(RangeError);
    expect(() => chunkWindow(sizes, { start: 5, end: 4 })).toThrow(RangeError);
  });
  it('matches a byte-by-byte slice for every range of a small recording', () => {
    const chunkSizes = [3, 1, 0, 4, 2];
    const bytes: { index: number; at: number }[] = [];
    chunkSizes.forEach((size, index) => {
      for (let at = 0; at < size; at++) bytes.push({ index, at });
    });
    for (let start = 0; start < bytes.length; start++) {
      for (let end = start; end < bytes.length; end++) {
        const w = chunkWindow(chunkSizes, { start, end });
        expect(w).toEqual({
          firstIndex: bytes[start]!.index,
          lastIndex: bytes[end]!.index,
          skip: bytes[start]!.at,
          length: end - start + 1,
        });
      }
    }
  });
});
