import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudEvent } from '../../../canonical/cloud-event';
import { DestinationMappingService } from '../shared/destination-mapping.service';
import { HUBSPOT_MAPPING_BINDINGS } from './hubspot.adapter';

/** mappings/destinations/hubspot/<name>.cases.json: canonical event in, HubSpot properties out, compared whole. */
interface HubspotMappingCase {
  name: string;
  input: CloudEvent;
  expect: Record<string, unknown>;
}

const sut = new DestinationMappingService();
const folder = join(sut.root, 'hubspot');
const mappings = readdirSync(folder)
  .filter((f) => f.endsWith('.jsonata'))
  .map((f) => f.replace(/\.jsonata$/, ''));

describe('HubSpot destination mapping cases', () => {
  for (const name of mappings) {
    const path = join(folder, `${name}.cases.json`);
    const cases: HubspotMappingCase[] = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : [];
    it(`${name} has at least one case`, () => expect(cases.length).toBeGreaterThan(0));
    for (const mappingCase of cases) {
      it(`${name}: ${mappingCase.name}`, async () => {
        const actual = await sut.evaluate('hubspot', name, mappingCase.input, HUBSPOT_MAPPING_BINDINGS);
        expect(actual).toEqual(mappingCase.expect);
      });
    }
  }
});
