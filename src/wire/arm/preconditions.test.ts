import { describe, expect, it } from 'vitest';
import { checkPreconditions } from './preconditions.js';

const stored = { etag: '"e1"' };
const fails = (headers: Record<string, string>, missing = false): string | undefined => {
  try {
    checkPreconditions(headers, missing ? undefined : stored);
    return undefined;
  } catch (error) {
    return (error as { target?: string }).target;
  }
};

describe('checkPreconditions', () => {
  it('holds If-Match for the etag, a list holding it, a weak form of it, or * on an existing resource', () => {
    expect(fails({ 'if-match': '"e1"' })).toBeUndefined();
    expect(fails({ 'if-match': '"e0", "e1"' })).toBeUndefined();
    expect(fails({ 'if-match': 'W/"e1"' })).toBeUndefined();
    expect(fails({ 'if-match': '*' })).toBeUndefined();
    expect(fails({})).toBeUndefined();
  });

  it('fails If-Match naming the header for another etag or a missing resource', () => {
    expect(fails({ 'if-match': '"e2"' })).toBe('If-Match');
    expect(fails({ 'if-match': '*' }, true)).toBe('If-Match');
  });

  it('fails If-None-Match: * or the etag on an existing resource, and holds it on a new one', () => {
    expect(fails({ 'if-none-match': '*' })).toBe('If-None-Match');
    expect(fails({ 'if-none-match': '"e1"' })).toBe('If-None-Match');
    expect(fails({ 'if-none-match': '"e2"' })).toBeUndefined();
    expect(fails({ 'if-none-match': '*' }, true)).toBeUndefined();
  });
});
