import type { DestinationType } from '../destination.entity';
import type { AdapterConfigSpec } from './destination-adapter';
import { HUBSPOT_CONFIG_SPEC } from './hubspot/hubspot.config-spec';
import { PIPEDRIVE_CONFIG_SPEC } from './pipedrive/pipedrive.config';
import { SALESFORCE_CONFIG_SPEC } from './salesforce/salesforce.config';

/**
 * How each CRM destination type's `config` is checked and stored (DESIGN §7). Kept apart from the adapters, which
 * need DestinationService themselves, so the service can validate a config without depending on them. Each CRM
 * folder exports its spec; register it here.
 */
export const CONFIG_SPECS: Partial<Record<DestinationType, AdapterConfigSpec>> = {
  hubspot: HUBSPOT_CONFIG_SPEC,
  pipedrive: PIPEDRIVE_CONFIG_SPEC,
  salesforce: SALESFORCE_CONFIG_SPEC,
};

export function configSpecFor(type: DestinationType): AdapterConfigSpec | undefined {
  return CONFIG_SPECS[type];
}

/**
 * Applies defaults, checks required keys, and splits secrets from the rest. Returns the problem as text, for a 400.
 */
export function normalizeConfig(
  spec: AdapterConfigSpec,
  given: Record<string, unknown>,
): { config: Record<string, unknown>; secrets: Record<string, string> } | string {
  const merged: Record<string, unknown> = { ...spec.defaults, ...given };
  const known = new Set([...spec.secretKeys, ...spec.required, ...Object.keys(spec.defaults)]);
  const unknown = Object.keys(given).filter((key) => !known.has(key));
  if (unknown.length) return `config: unknown key ${unknown.map((k) => `"${k}"`).join(', ')}`;
  for (const key of spec.required) {
    const value = merged[key];
    if (typeof value !== 'string' || !value.trim()) return `config.${key} is required`;
  }
  for (const [key, value] of Object.entries(merged)) {
    if (typeof value !== 'string') return `config.${key} must be a string`;
  }
  const problem = spec.validate?.(merged);
  if (problem) return problem;
  const config: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(merged)) {
    if (spec.secretKeys.includes(key)) secrets[key] = value as string;
    else config[key] = value;
  }
  return { config, secrets };
}
