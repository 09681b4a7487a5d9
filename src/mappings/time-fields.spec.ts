import { ConnectorRegistry } from '../connectors/connector.registry';
import { loadCases } from './mapping-cases';
import { MappingService } from './mapping.service';

/*
 * DESIGN §4: every time in a canonical event is ISO-8601 UTC, `YYYY-MM-DDTHH:mm:ss(.sss)Z`, including transcript
 * segment `at` (vendor unix seconds are converted by the mapping). Walks every case's expected output, so a case
 * that pins a vendor's raw time ("111111", an offset, unix seconds) fails here.
 */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const registry = new ConnectorRegistry();
const mappingsRoot = new MappingService().root;

/** A time field: a key ending in `At` or `time`/`Time`, and `at` (a transcript segment's time). */
const isTimeKey = (key: string) => /At$/.test(key) || /[tT]ime$/.test(key) || key === 'at';

/** Every time field under `value`, with its path. `changes` may hold a previous value that really was null. */
function timeFields(value: unknown, path = ''): { path: string; value: unknown }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => timeFields(item, `${path}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) => {
    const at = path ? `${path}.${key}` : key;
    const own = isTimeKey(key) && !(item === null && path.includes('changes')) ? [{ path: at, value: item }] : [];
    // customFields keep the vendor's raw values (an implausible time is kept there on purpose).
    return key === 'customFields' ? own : [...own, ...timeFields(item, at)];
  });
}

const isUtc = (value: unknown) =>
  typeof value === 'string' && ISO_UTC.test(value) && !Number.isNaN(new Date(value).getTime());

const cases = registry.list().flatMap((connector) =>
  connector.events.flatMap((event) =>
    loadCases(mappingsRoot, connector.id, event.type).map((c) => ({
      name: `${connector.id}/${event.type}: ${c.name}`,
      c,
    })),
  ),
);

describe('time fields in every case', () => {
  it('finds time fields to check (segment at, event time, startedAt, …)', () => {
    const all = cases.flatMap(({ c }) => timeFields(c.expect));
    expect(all.some((f) => /\.segments\[\d+\]\.at$/.test(f.path))).toBe(true);
    expect(all.some((f) => /\.time$/.test(f.path))).toBe(true);
    expect(all.some((f) => /At$/.test(f.path))).toBe(true);
  });

  it.each(cases.map(({ name, c }) => [name, c] as const))('%s: every time is ISO-8601 UTC', (_name, c) => {
    const wrong = timeFields(c.expect).filter((f) => !isUtc(f.value));
    expect(wrong).toEqual([]);
  });

  describe(timeFields.name, () => {
    it('flags a raw vendor time in a segment, and leaves customFields alone', () => {
      const sut = timeFields;
      const fields = sut([
        {
          time: '2026-01-01T00:00:00.000Z',
          data: {
            startedAt: '2026-01-01T00:00:00+01:00',
            transcript: { segments: [{ text: 'hi', at: '111111' }] },
            customFields: { timestamp_utc: '111111', updatedAt: 'whenever' },
            changes: { endedAt: null },
          },
        },
      ]);
      expect(fields.filter((f) => !isUtc(f.value)).map((f) => f.path)).toEqual([
        '[0].data.startedAt',
        '[0].data.transcript.segments[0].at',
      ]);
    });
  });
});
