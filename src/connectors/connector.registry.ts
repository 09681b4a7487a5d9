import { Injectable } from '@nestjs/common';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { sha256Hex } from '../common/ids';
import { projectRoot } from '../common/project-root';
import { urlProblem } from '../outbound/outbound-guard';
import { ConnectorDefinition, ConnectorEnrichment, Envelope, readPath } from './connector';
import { HeaderTokenVerifier } from './verifiers/header-token.verifier';
import { HmacSha256Verifier } from './verifiers/hmac-sha256.verifier';
import { StandardWebhooksVerifier } from './verifiers/standard-webhooks.verifier';
import { UrlTokenVerifier } from './verifiers/url-token.verifier';
import { VerificationScheme, Verifier } from './verifiers/verifier';

export const VERIFIERS: Record<VerificationScheme, Verifier> = {
  'standard-webhooks': new StandardWebhooksVerifier(),
  'hmac-sha256': new HmacSha256Verifier(),
  'header-token': new HeaderTokenVerifier(),
  'url-token': new UrlTokenVerifier(),
};

export class EnvelopeError extends Error {}

export interface EffectiveVerification {
  scheme: VerificationScheme;
  /** Request headers the vendor must send (none for url-token). */
  headers: string[];
  toleranceSeconds?: number;
  ipAllow?: string[];
  secretsRequired: boolean;
  secretFormat?: string;
}

/** Loads every `connectors/<id>/connector.yaml` once at boot and fails loudly on a malformed one. */
@Injectable()
export class ConnectorRegistry {
  readonly root = join(projectRoot(), 'connectors');
  private readonly connectors = new Map<string, ConnectorDefinition>();

  constructor() {
    for (const entry of readdirSync(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const definition = loadConnector(this.root, entry.name);
      this.connectors.set(definition.id, definition);
    }
  }

  list(): ConnectorDefinition[] {
    return [...this.connectors.values()];
  }

  find(id: string): ConnectorDefinition | undefined {
    return this.connectors.get(id);
  }

  get(id: string): ConnectorDefinition {
    const connector = this.connectors.get(id);
    if (!connector) throw new Error(`unknown connector ${id}`);
    return connector;
  }

  /** The scheme a source verifies with: the connector's, or an alternative the source opted into. */
  schemeFor(connector: ConnectorDefinition, overrides: Record<string, unknown>): VerificationScheme {
    const wanted = overrides.scheme as VerificationScheme | undefined;
    return wanted && wanted !== connector.verification.scheme ? wanted : connector.verification.scheme;
  }

  /** Schemes a source of this connector may use. */
  schemesOf(connector: ConnectorDefinition): VerificationScheme[] {
    return [
      connector.verification.scheme,
      ...(Object.keys(connector.verification.alternatives ?? {}) as VerificationScheme[]),
    ];
  }

  verifierFor(connector: ConnectorDefinition, overrides: Record<string, unknown> = {}): Verifier {
    return VERIFIERS[this.schemeFor(connector, overrides)];
  }

  /** The scheme's defaults (connector or alternative) with the source's overrides on top. */
  settingsFor(connector: ConnectorDefinition, overrides: Record<string, unknown>): Record<string, unknown> {
    const scheme = this.schemeFor(connector, overrides);
    const { scheme: _scheme, alternatives, ...defaults } = connector.verification;
    const base = scheme === connector.verification.scheme ? defaults : (alternatives?.[scheme] ?? {});
    const { scheme: _override, ...rest } = overrides;
    return { ...base, ...rest };
  }

  /**
   * What a source of this connector really verifies with: the scheme, the headers the vendor must send, the
   * timestamp tolerance and IP allow-list, after the connector defaults and the source's overrides are merged.
   */
  effectiveVerification(connector: ConnectorDefinition, overrides: Record<string, unknown>): EffectiveVerification {
    const settings = this.settingsFor(connector, overrides);
    const described = this.verifierFor(connector, overrides).describe(settings);
    return {
      scheme: described.scheme,
      headers: described.headers,
      ...(described.toleranceSeconds !== undefined ? { toleranceSeconds: described.toleranceSeconds } : {}),
      ...(Array.isArray(settings.ipAllow) ? { ipAllow: settings.ipAllow as string[] } : {}),
      secretsRequired: described.secretsRequired,
      ...(described.secretFormat ? { secretFormat: described.secretFormat } : {}),
    };
  }

  /** The fetch the connector declares for this vendor event type, if any. */
  enrichmentFor(connector: ConnectorDefinition, vendorEventType: string): ConnectorEnrichment | undefined {
    return connector.enrichment.find((e) => e.event === vendorEventType);
  }

  sample(connector: ConnectorDefinition, file: string): Buffer {
    return readFileSync(join(this.root, connector.id, 'samples', file));
  }

  /** Reads the envelope attributes from a parsed body (DESIGN §3 table). */
  envelope(connector: ConnectorDefinition, body: unknown, rawBody: Buffer): Envelope {
    const paths = connector.envelope;
    const eventType = readPath(body, paths.eventType);
    if (typeof eventType !== 'string' || !eventType) {
      throw new EnvelopeError(`Body has no event type at "${paths.eventType}"`);
    }
    const rawId = readPath(body, paths.eventId);
    const eventId = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : undefined;
    if (paths.dedup === 'eventId' && !eventId) throw new EnvelopeError(`Body has no event id at "${paths.eventId}"`);
    return {
      eventType,
      eventId,
      occurredAt: parseTime(readPath(body, paths.occurredAt), paths.occurredAtFormat),
      test: readPath(body, paths.test) === true,
      dedupKey: paths.dedup === 'eventId' ? `id:${eventId}` : `sha256:${sha256Hex(rawBody)}`,
    };
  }
}

function parseTime(value: unknown, format: 'iso' | 'unix' | undefined): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const date = format === 'unix' ? new Date(Number(value) * 1000) : new Date(String(value));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function loadConnector(root: string, folder: string): ConnectorDefinition {
  const file = join(root, folder, 'connector.yaml');
  const doc = parseYaml(readFileSync(file, 'utf8')) as Partial<ConnectorDefinition> & {
    events?: (Partial<ConnectorDefinition['events'][number]> & { sample?: string })[];
  };
  const fail = (message: string): never => {
    throw new Error(`${file}: ${message}`);
  };
  if (doc.id !== folder) fail(`id must equal the folder name "${folder}"`);
  if (!doc.name) fail('name is required');
  if (!doc.verification?.scheme || !(doc.verification.scheme in VERIFIERS)) {
    fail(`verification.scheme must be one of ${Object.keys(VERIFIERS).join(', ')}`);
  }
  for (const alternative of Object.keys(doc.verification?.alternatives ?? {})) {
    if (!(alternative in VERIFIERS)) fail(`verification.alternatives: unknown scheme ${alternative}`);
  }
  const setup = doc.setup as Partial<ConnectorDefinition['setup']> | undefined;
  if (typeof setup?.where !== 'string' || !setup.where.trim()) fail('setup.where is required (vendor settings path)');
  if (!Array.isArray(setup!.steps) || !setup!.steps.length || setup!.steps.some((s) => typeof s !== 'string' || !s)) {
    fail('setup.steps must list the setup steps as text');
  }
  if (setup!.secret !== undefined && (typeof setup!.secret !== 'string' || !setup!.secret)) {
    fail('setup.secret must be text when present');
  }
  if (!doc.envelope?.eventType) fail('envelope.eventType is required');
  if (!Array.isArray(doc.events) || !doc.events.length) fail('events must list the vendor events');
  const events = doc.events!.map((event) => {
    if (!event.type) fail('every event needs a type');
    return { type: event.type!, description: event.description, samples: event.samples ?? [`${event.type}.json`] };
  });
  const enrichment = loadEnrichment(
    doc.enrichment,
    events.map((e) => e.type),
    fail,
  );
  return { ...(doc as ConnectorDefinition), events, enrichment };
}

/** Header names as RFC 9110 tokens; `{dot.path}` placeholders only. Checked at boot so a typo never reaches a fetch. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const PATH_TEMPLATE = /^\/([^{}\s]|\{[A-Za-z_][\w.]*\})*$/;

export function loadEnrichment(
  raw: unknown,
  eventTypes: string[],
  fail: (message: string) => never,
): ConnectorEnrichment[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return fail('enrichment must be a list of {event, method, path, auth, into}');
  const seen = new Set<string>();
  return raw.map((item: Partial<ConnectorEnrichment> & { auth?: Partial<ConnectorEnrichment['auth']> }, i) => {
    const at = `enrichment[${i}]`;
    if (!item?.event || !eventTypes.includes(item.event)) fail(`${at}.event must be one of the connector's events`);
    if (seen.has(item.event!)) fail(`${at}: ${item.event} has two enrichments; declare one`);
    seen.add(item.event!);
    const method = item.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST') fail(`${at}.method must be GET or POST`);
    if (typeof item.path !== 'string' || !PATH_TEMPLATE.test(item.path)) {
      fail(`${at}.path must start with / and use {dot.path} placeholders, e.g. /v1/recordings/{data.id}`);
    }
    if (!item.auth?.header || !HEADER_NAME.test(item.auth.header)) fail(`${at}.auth.header must be a header name`);
    const value = item.auth!.value ?? '{apiKey}';
    if (!value.includes('{apiKey}')) fail(`${at}.auth.value must contain {apiKey}`);
    if (item.baseUrl !== undefined) {
      const problem = urlProblem(item.baseUrl);
      if (problem) fail(`${at}.baseUrl: ${problem}`);
    }
    if (!item.into || !/^[A-Za-z_]\w{0,63}$/.test(item.into)) fail(`${at}.into must be a name, e.g. transcript`);
    return {
      event: item.event!,
      method,
      path: item.path!,
      auth: { header: item.auth!.header, value },
      ...(item.baseUrl ? { baseUrl: item.baseUrl.replace(/\/+$/, '') } : {}),
      into: item.into!,
    };
  });
}
