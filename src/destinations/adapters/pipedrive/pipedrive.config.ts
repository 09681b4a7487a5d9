import type { AdapterConfigSpec } from '../destination-adapter';

/** DESIGN §7: `{"type": "pipedrive", "config": {"baseUrl", "token"}}`; the token is sent as `x-api-token`. */
export const PIPEDRIVE_CONFIG_SPEC: AdapterConfigSpec = {
  secretKeys: ['token'],
  required: ['token'],
  defaults: { baseUrl: 'https://api.pipedrive.com' },
  urlKeys: ['baseUrl'],
  validate(config) {
    const base = String(config.baseUrl);
    if (!/^https?:\/\/[^/]+/i.test(base))
      return 'config.baseUrl must be an http(s) URL such as https://api.pipedrive.com';
    return undefined;
  },
};
