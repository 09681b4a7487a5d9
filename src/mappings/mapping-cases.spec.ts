import { ConnectorRegistry } from '../connectors/connector.registry';
import { caseEnrichment, loadCases, projectForCase, samplesWithCases } from './mapping-cases';
import { MappingService } from './mapping.service';

/*
 * Walks every connector, event and case: each event has a mapping, each sample a case,
 * and each case's canonical output matches field by field. Adding a sample without a case fails here.
 */
const registry = new ConnectorRegistry();
const mappings = new MappingService();
// Its worker threads are idle and unref'd, but --runInBand runs every file in one process: stop them.
afterAll(() => mappings.close());

describe('mapping cases', () => {
  for (const connector of registry.list()) {
    describe(connector.id, () => {
      for (const { event, sample, case: covering } of samplesWithCases(mappings.root, connector)) {
        it(`sample ${sample} has a case`, () => {
          if (!covering) throw new Error(`no case in mappings/${connector.id}/${event}.cases.json names ${sample}`);
        });
      }

      for (const event of connector.events) {
        const cases = loadCases(mappings.root, connector.id, event.type);
        it(`${event.type} has a mapping and at least one case`, () => {
          expect(cases.length).toBeGreaterThan(0);
        });
        for (const mappingCase of cases) {
          it(`${event.type}: ${mappingCase.name}`, async () => {
            const raw = mappingCase.sample
              ? registry.sample(connector, mappingCase.sample)
              : Buffer.from(JSON.stringify(mappingCase.input));
            const body = JSON.parse(raw.toString('utf8')) as unknown;
            const envelope = registry.envelope(connector, body, raw);
            expect(envelope.eventType).toBe(event.type);
            const events = await mappings.map(body, {
              connector: connector.id,
              vendorEventType: envelope.eventType,
              vendorEventId: envelope.eventId,
              inboundEventId: 'in_case',
              sourceId: 'src_case',
              receivedAt: new Date(mappingCase.receivedAt ?? '2026-01-01T00:00:00.000Z'),
              occurredAt: envelope.occurredAt,
              test: envelope.test,
              enrichment: caseEnrichment(mappingCase),
            });
            expect(events.map((e, i) => projectForCase(e, mappingCase.expect[i] ?? e))).toEqual(mappingCase.expect);
          });
        }
      }
    });
  }
});
