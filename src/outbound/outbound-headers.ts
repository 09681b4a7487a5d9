/**
 * Why Node would refuse to send this header value, or undefined. Node's rule (http.validateHeaderValue) is
 * RFC 9110 §5.5 field-value: HTAB, visible ASCII, space and obs-text (0x80-0xFF). Checking it up front turns
 * what Node (ERR_INVALID_CHAR) or undici (UND_ERR_INVALID_ARG) would throw, in words that may name the value, into a
 * clear answer that names only the header.
 */
export function headerValueProblem(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return 'contains a control character (CR, LF, NUL, ...)';
  if (/[\u0100-\uffff]/.test(value)) return 'contains a character outside Latin-1, which a header cannot carry';
  return undefined;
}
