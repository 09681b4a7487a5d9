import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudEvent } from '../../../canonical/cloud-event';
import { DestinationMappingService } from '../shared/destination-mapping.service';

interface DestinationCase {
  name: string;
  input: Partial<CloudEvent> & { type: string; subject: string; data: Record<string, unknown> };
  expect: unknown;
}

/*
 * mappings/destinations/pipedrive/: every mapping has a cases file with at least one case, and each case's output
 * equals its expectation exactly (the bodies the adapter sends are built from these).
 */
const sut = new DestinationMappingService();
const folder = join(sut.root, 'pipedrive');
const mappings = readdirSync(folder)
  .filter((f) => f.endsWith('.jsonata'))
  .map((f) => f.replace(/\.jsonata$/, ''));

describe(`${DestinationMappingService.name} (pipedrive cases)`, () => {
  it('finds the Pipedrive mappings', () => {
    expect(mappings.sort()).toEqual(['activity', 'note', 'organization', 'person']);
  });

  for (const name of mappings) {
    const file = join(folder, `${name}.cases.json`);
    const cases: DestinationCase[] = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
    it(`${name} has at least one case`, () => expect(cases.length).toBeGreaterThan(0));
    for (const c of cases) {
      it(`${name}: ${c.name}`, async () => {
        const event = { specversion: '1.0', id: 'evt_case', source: 'switchboard/sources/src_case', ...c.input };
        expect(await sut.evaluate('pipedrive', name, event as CloudEvent)).toEqual(c.expect);
      });
    }
  }
});
