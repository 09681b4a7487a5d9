import { createHash } from 'node:crypto';

/**
 * What logs show instead of a source id. A url-token source's id is its credential (DESIGN §3, `url-token`: Sales Ask), so it
 * never reaches a log: the first 8 hex of its SHA-256 still lets an operator match log lines to a source
 * (`printf %s "$ID" | sha256sum | cut -c1-8`) but cannot be turned back into the id. Every source id gets the
 * same treatment whatever its scheme: the log line cannot always know the scheme (an unknown or mistyped id has
 * none), and one rule cannot be forgotten on one path.
 */
export function sourceFingerprint(sourceId: string): string {
  return createHash('sha256').update(sourceId).digest('hex').slice(0, 8);
}

/** Path segments that follow these hold a source id. */
const SOURCE_ID_PARENTS = new Set(['hooks', 'sources']);
/** Query parameters that hold a source id (GET /api/events?sourceId=). */
const SOURCE_ID_PARAMS = new Set(['sourceid']);

/**
 * A request URL safe to log: the source id in `/hooks/<id>`, `/api/sources/<id>/…` and `?sourceId=` is replaced
 * by `~<fingerprint>`. The result is for reading, not for requesting again.
 */
export function loggableUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    if (SOURCE_ID_PARENTS.has(segments[i - 1].toLowerCase()) && segments[i]) {
      segments[i] = `~${sourceFingerprint(safeDecode(segments[i], false))}`;
    }
  }
  if (queryAt < 0) return segments.join('/');
  const query = url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0 || !SOURCE_ID_PARAMS.has(safeDecode(pair.slice(0, equals), true).toLowerCase())) return pair;
      return `${pair.slice(0, equals)}=~${sourceFingerprint(safeDecode(pair.slice(equals + 1), true))}`;
    })
    .join('&');
  return `${segments.join('/')}?${query}`;
}

/** The id as the hub looks it up (the source middleware decodes it), so both spellings share one fingerprint. */
function safeDecode(value: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(plusIsSpace ? value.replace(/\+/g, ' ') : value);
  } catch {
    return value;
  }
}
