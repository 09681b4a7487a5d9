import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudEvent } from '../../../canonical/cloud-event';
import { DestinationMappingService } from '../shared/destination-mapping.service';

interface SalesforceMappingCase {
  name: string;
  event: Pick<CloudEvent, 'type' | 'subject' | 'time' | 'data'>;
  expect: Record<string, unknown>;
}

/*
 * mappings/destinations/salesforce/: every mapping has a cases file with at least one case, and each case's
 * canonical event maps to exactly the expected Salesforce fields (DESIGN §2: mappings are files, with cases).
 */
const sut = new DestinationMappingService();
const folder = join(sut.root, 'salesforce');
const mappings = readdirSync(folder)
  .filter((f) => f.endsWith('.jsonata'))
  .map((f) => f.replace(/\.jsonata$/, ''));

describe('Salesforce destination mappings', () => {
  it('has the mapping of every object the adapter writes', () => {
    expect(mappings.sort()).toEqual(['account', 'contact', 'event', 'lead', 'note', 'task']);
  });

  for (const name of mappings) {
    const casesFile = join(folder, `${name}.cases.json`);
    const cases: SalesforceMappingCase[] = existsSync(casesFile) ? JSON.parse(readFileSync(casesFile, 'utf8')) : [];

    it(`${name} has at least one case`, () => {
      expect(cases.length).toBeGreaterThan(0);
    });

    for (const mappingCase of cases) {
      it(`${name}: ${mappingCase.name}`, async () => {
        const event = { specversion: '1.0', connector: mappingCase.event.subject.split(':')[1], ...mappingCase.event };
        expect(await sut.evaluate('salesforce', name, event as CloudEvent)).toEqual(mappingCase.expect);
      });
    }
  }
});
