/**
 * How participants are matched to CRM records (issue 8): by email, lower-cased, and by phone normalised to E.164.
 * Ledger subjects for matched participants are `email:<address>` and `phone:<E.164>`.
 */
export function normalizeEmail(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const email = value.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) ? email : undefined;
}

/**
 * E.164: `+` and 8 to 15 digits. Spaces, dots, dashes and brackets go; a leading `00` becomes `+`. A number without
 * a country code cannot be normalised without knowing the country, so it is left unmatched (undefined).
 */
export function normalizePhone(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  let phone = String(value)
    .trim()
    .replace(/[\s().-]/g, '');
  if (phone.startsWith('00')) phone = `+${phone.slice(2)}`;
  return /^\+[1-9]\d{7,14}$/.test(phone) ? phone : undefined;
}

/** The domain of a company website or email address, lower-cased, without `www.`. */
export function domainOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.trim()) return undefined;
  const text = value.trim().toLowerCase();
  const host = text.includes('@') ? text.split('@').pop()! : text.replace(/^[a-z]+:\/\//, '').split(/[/?#:]/)[0];
  const domain = host.replace(/^www\./, '');
  return /^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain) ? domain : undefined;
}

/** Long text for a CRM body field, cut to the CRM's limit with a note that says so (issue 8: long text). */
export function truncateForCrm(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const note = `\n\n[Switchboard: truncated from ${text.length} to ${limit} characters]`;
  return text.slice(0, limit - note.length) + note;
}
