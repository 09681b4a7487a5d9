import type { AdapterConfigSpec } from '../destination-adapter';

/** A Salesforce destination's `config` (DESIGN §7), with the token opened. */
export interface SalesforceConfig {
  /** The org's My Domain URL, e.g. https://acme.my.salesforce.com. */
  instanceUrl: string;
  /** OAuth access token, sent as `Authorization: Bearer`. */
  token: string;
  /** REST API version without the `v`, e.g. 60.0. sObject Collections upsert needs 46.0 or later. */
  apiVersion: string;
  /** The external id field every Switchboard object upserts on (a unique, external-id text field). */
  externalIdField: string;
}

export const SALESFORCE_CONFIG_SPEC: AdapterConfigSpec = {
  secretKeys: ['token'],
  required: ['instanceUrl', 'token'],
  defaults: { apiVersion: '60.0', externalIdField: 'Switchboard_Id__c' },
  urlKeys: ['instanceUrl'],
  validate(config) {
    const apiVersion = String(config.apiVersion);
    if (!/^\d{2,3}\.0$/.test(apiVersion) || Number(apiVersion) < 46) {
      return 'config.apiVersion must look like 60.0 and be 46.0 or later (sObject Collections upsert)';
    }
    // An API name: letters, digits and underscores, starting with a letter (custom fields end in __c).
    if (!/^[A-Za-z][A-Za-z0-9_]{0,79}$/.test(String(config.externalIdField))) {
      return 'config.externalIdField must be a Salesforce field API name such as Switchboard_Id__c';
    }
    let url: URL;
    try {
      url = new URL(String(config.instanceUrl));
    } catch {
      return 'config.instanceUrl must be a URL such as https://acme.my.salesforce.com';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'config.instanceUrl must be an http(s) URL';
    if (url.pathname !== '/' || url.search || url.hash) {
      return 'config.instanceUrl must be the instance origin only, such as https://acme.my.salesforce.com';
    }
    return undefined;
  },
};

export function salesforceConfig(config: Record<string, unknown>): SalesforceConfig {
  return {
    instanceUrl: String(config.instanceUrl).replace(/\/+$/, ''),
    token: String(config.token),
    apiVersion: String(config.apiVersion ?? SALESFORCE_CONFIG_SPEC.defaults.apiVersion),
    externalIdField: String(config.externalIdField ?? SALESFORCE_CONFIG_SPEC.defaults.externalIdField),
  };
}
