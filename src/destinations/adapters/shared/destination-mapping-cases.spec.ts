import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudEvent } from '../../../canonical/cloud-event';
import { HUBSPOT_MAPPING_BINDINGS } from '../hubspot/hubspot.adapter';
import { DestinationMappingService } from './destination-mapping.service';

/**
 * mappings/destinations/<crm>/<name>.cases.json (DESIGN §2: mappings are files, with cases): a canonical event in,
 * the CRM fields out, compared whole. Every mapping of every CRM has at least one case. The event may leave out
 * the envelope attributes a case does not care about.
 */
interface DestinationMappingCase {
  name: string;
  input: Partial<CloudEvent> & Pick<CloudEvent, 'type' | 'subject' | 'data'>;
  expect: unknown;
}

/** Functions a CRM's adapter binds into its mappings. */
const BINDINGS: Record<string, Record<string, unknown>> = { hubspot: HUBSPOT_MAPPING_BINDINGS };

const sut = new DestinationMappingService();
const crms = readdirSync(sut.root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe('destination mapping cases', () => {
  it('finds a mappings folder for each CRM', () => {
    expect(crms.sort()).toEqual(['hubspot', 'pipedrive', 'salesforce']);
  });

  for (const crm of crms) {
    const folder = join(sut.root, crm);
    const names = readdirSync(folder)
      .filter((file) => file.endsWith('.jsonata'))
      .map((file) => file.replace(/\.jsonata$/, ''));
    for (const name of names) {
      const file = join(folder, `${name}.cases.json`);
      const cases: DestinationMappingCase[] = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
      it(`${crm}/${name} has at least one case`, () => expect(cases.length).toBeGreaterThan(0));
      for (const mappingCase of cases) {
        it(`${crm}/${name}: ${mappingCase.name}`, async () => {
          const event = {
            specversion: '1.0',
            id: 'evt_case',
            source: 'switchboard/sources/src_case',
            connector: mappingCase.input.subject.split(':')[1],
            ...mappingCase.input,
          } as CloudEvent;
          expect(await sut.evaluate(crm, name, event, BINDINGS[crm])).toEqual(mappingCase.expect);
        });
      }
    }
  }
});
