import type { AdapterConfigSpec } from '../destination-adapter';

export const HUBSPOT_DEFAULT_BASE_URL = 'https://api.hubapi.com';
export const HUBSPOT_DEFAULT_EXTERNAL_ID_PROPERTY = 'switchboard_external_id';

/** The opened config of a HubSpot destination (DESIGN §7). */
export interface HubspotConfig {
  baseUrl: string;
  /** Private app access token, sent as a Bearer token. Sealed at rest, never shown by the API. */
  token: string;
  /** The unique property calls, meetings and notes are upserted on. */
  externalIdProperty: string;
}

/**
 * `{"baseUrl", "token", "externalIdProperty"}`. Kept apart from the adapter so DestinationService can check a config
 * without depending on the adapter (see config-specs.ts).
 */
export const HUBSPOT_CONFIG_SPEC: AdapterConfigSpec = {
  secretKeys: ['token'],
  required: ['token'],
  defaults: { baseUrl: HUBSPOT_DEFAULT_BASE_URL, externalIdProperty: HUBSPOT_DEFAULT_EXTERNAL_ID_PROPERTY },
  urlKeys: ['baseUrl'],
  validate(config) {
    // HubSpot internal property names: lower-case letters, digits and underscores, starting with a letter.
    if (!/^[a-z][a-z0-9_]{0,99}$/.test(String(config.externalIdProperty))) {
      return 'config.externalIdProperty must be a HubSpot internal property name (a-z, 0-9, _; starting with a letter)';
    }
    return undefined;
  },
};

export function hubspotConfigOf(config: Record<string, unknown>): HubspotConfig {
  return {
    baseUrl: String(config.baseUrl ?? HUBSPOT_DEFAULT_BASE_URL).replace(/\/+$/, ''),
    token: String(config.token ?? ''),
    externalIdProperty: String(config.externalIdProperty ?? HUBSPOT_DEFAULT_EXTERNAL_ID_PROPERTY),
  };
}
