import { createHash } from 'node:crypto';
import { truncateForCrm } from '../shared/identity';

/**
 * Pipedrive documents no length limit for activity and note HTML; the hub keeps bodies to this many characters of
 * text (transcripts included) so a request never grows without bound, and says so in the text when it cuts.
 */
export const PIPEDRIVE_TEXT_LIMIT = 65_536;

/**
 * The marker the hub writes into every activity and note it creates: Pipedrive has no external-id field on them
 * and no search over their text, so after an ambiguous create the hub lists recent records and looks for this.
 */
export function markerFor(subject: string): string {
  return `sb:${createHash('sha256').update(subject).digest('hex').slice(0, 20)}`;
}

/** Plain text → Pipedrive's HTML body (escaped, line breaks kept), cut to the limit, with the marker at the end. */
export function htmlBody(text: string | undefined, subject: string): string {
  const marker = `<p>[Switchboard ${markerFor(subject)}]</p>`;
  if (!text) return marker;
  const cut = truncateForCrm(text, PIPEDRIVE_TEXT_LIMIT);
  const html = cut.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return `<p>${html.replace(/\r?\n/g, '<br>')}</p>${marker}`;
}
