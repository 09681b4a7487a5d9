import 'reflect-metadata';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { cloudEvent, expectedEvents } from '../../test/helpers/canonical-events';
import { canonicalCatalogue, schemaForType } from './canonical-schema';
import { validateCloudEvent } from './canonical-validator';
import { CANONICAL_TYPES, CanonicalType } from './cloud-event';

describe(schemaForType.name, () => {
  const ajv = addFormats(new Ajv({ allErrors: true, strict: true }));
  const sut = (type: CanonicalType) => ajv.compile(schemaForType(type));

  it('gives every canonical type a schema that ajv accepts in strict mode', () => {
    const catalogue = canonicalCatalogue();
    expect(catalogue.map((entry) => entry.type)).toEqual([...CANONICAL_TYPES]);
    for (const entry of catalogue) expect(() => ajv.compile(entry.schema)).not.toThrow();
  });

  it('accepts the data of every event the mapping cases expect, as the validator does', () => {
    const events = expectedEvents();
    expect(events.length).toBeGreaterThan(30);
    for (const { type, data } of events) {
      const validate = sut(type);
      expect({ type, valid: validate(data), errors: validate.errors ?? null }).toEqual({
        type,
        valid: true,
        errors: null,
      });
    }
  });

  it.each<[string, CanonicalType, Record<string, unknown>]>([
    ['a missing id', 'contact.created', { firstName: 'Ana' }],
    ['a blank id', 'contact.created', { id: '  ' }],
    ['an undeclared field', 'company.updated', { id: 'c1', founded: 1999 }],
    ['a kind outside the enum', 'activity.completed', { id: 'a1', kind: 'fax' }],
    ['a time that is not ISO-8601', 'activity.completed', { id: 'a1', kind: 'call', startedAt: 'yesterday' }],
    ['a negative duration', 'activity.completed', { id: 'a1', kind: 'call', durationSeconds: -1 }],
    ['a non-string in a string list', 'company.created', { id: 'c1', domains: ['a.com', 3] }],
    ['a nested item missing its required field', 'contact.created', { id: 'c1', emails: [{ primary: true }] }],
    ['a non-integer score', 'activity.analyzed', { id: 'a1', kind: 'call', process: { followed: 1.5 } }],
    ['a signal category outside the enum', 'signal.detected', { code: 'x', category: 'great' }],
  ])('rejects %s, as the validator does', (_why, type, data) => {
    expect(sut(type)(data)).toBe(false);
    expect(validateCloudEvent(cloudEvent(type, data)).some((p) => p.startsWith('data.'))).toBe(true);
  });
});
