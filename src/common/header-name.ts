/** RFC 9110 §5.1 token characters: what a header name may be. */
export function isHeaderName(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/.test(value);
}
