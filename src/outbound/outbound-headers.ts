/**
 * Why Node would refuse to send this header value, or undefined. Node's rule (http.validateHeaderValue) is
 * RFC 9110 §5.5 field-value: HTAB, visible ASCII, space and obs-text (0x80-0xFF). Checking it up front turns
 * what Node would throw (ERR_INVALID_CHAR) or axios would silently rewrite (it strips CR LF) into a clear answer.
 */
export function headerValueProblem(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return 'contains a control character (CR, LF, NUL, ...)';
  if (/[\u0100-\uffff]/.test(value)) return 'contains a character outside Latin-1, which a header cannot carry';
  return undefined;
}
