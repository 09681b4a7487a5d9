import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudEvent } from '../canonical/cloud-event';
import type { ConnectorDefinition } from '../connectors/connector';
import type { MappingEnrichment } from './mapping.worker';

/**
 * `mappings/<connector>/<event>.cases.json`: fixtures that pin a mapping's output.
 * Each case names a sample file (connectors/<connector>/samples/) or gives an inline `input`,
 * and lists the canonical events expected, in order. `type`, `subject` and the whole `data` are compared;
 * `time` and `test` too when the case gives them.
 */
export interface MappingCase {
  name: string;
  sample?: string;
  input?: unknown;
  receivedAt?: string;
  /**
   * Issue 12: what the enrich step fetched, exactly as the mapping sees it in `$enrichment` (e.g.
   * `{"recording": {…}}`), or the reason it failed. Absent: the event was not enriched.
   */
  enrichment?: unknown;
  enrichmentFailed?: string;
  expect: ExpectedEvent[];
}

export interface ExpectedEvent {
  type: string;
  subject: string;
  time?: string;
  test?: boolean;
  data: Record<string, unknown>;
}

/** A case's enrichment as the mapping context carries it; undefined when the case has none. */
export function caseEnrichment(
  mappingCase: Pick<MappingCase, 'enrichment' | 'enrichmentFailed'>,
): MappingEnrichment | undefined {
  if (mappingCase.enrichmentFailed !== undefined) return { status: 'failed', error: mappingCase.enrichmentFailed };
  if (mappingCase.enrichment !== undefined)
    return { status: 'enriched', document: JSON.stringify(mappingCase.enrichment) };
  return undefined;
}

export function casesPath(mappingsRoot: string, connector: string, eventType: string): string {
  return join(mappingsRoot, connector, `${eventType}.cases.json`);
}

export function loadCases(mappingsRoot: string, connector: string, eventType: string): MappingCase[] {
  const path = casesPath(mappingsRoot, connector, eventType);
  if (!existsSync(path)) return [];
  return JSON.parse(readFileSync(path, 'utf8')) as MappingCase[];
}

/** Every sample of every event, with the case that covers it as received (undefined when none does). */
export function samplesWithCases(mappingsRoot: string, connector: ConnectorDefinition) {
  return connector.events.flatMap((event) => {
    const cases = loadCases(mappingsRoot, connector.id, event.type);
    return event.samples.map((sample) => ({
      event: event.type,
      sample,
      // The sample as it arrives: cases that add an enrichment describe a later step.
      case: cases.find((c) => c.sample === sample && c.enrichment === undefined && c.enrichmentFailed === undefined),
    }));
  });
}

/** The fields of an actual event that a case pins, shaped like the expectation so a deep-equal diff reads well. */
export function projectForCase(actual: CloudEvent, expected: ExpectedEvent): ExpectedEvent {
  return {
    type: actual.type,
    subject: actual.subject,
    ...(expected.time !== undefined ? { time: actual.time } : {}),
    ...(expected.test !== undefined ? { test: actual.test } : {}),
    data: actual.data,
  };
}
