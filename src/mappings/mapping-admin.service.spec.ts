import { diffFields } from './mapping-admin.service';

describe(diffFields.name, () => {
  const sut = diffFields;

  it('finds nothing between equal outputs', () => {
    const events = [{ type: 'contact.created', data: { name: 'Ada', tags: ['a', 'b'] } }];
    expect(sut(events, structuredClone(events))).toEqual([]);
  });

  it('names each changed, added and removed leaf by its path', () => {
    const before = [{ data: { title: 'old', kept: 1, gone: true, tags: ['a', 'b'] } }];
    const after = [{ data: { title: 'new', kept: 1, added: { x: 1 }, tags: ['a'] } }];
    expect(sut(before, after)).toEqual([
      { path: '[0].data.title', before: 'old', after: 'new' },
      { path: '[0].data.gone', before: true },
      { path: '[0].data.tags[1]', before: 'b' },
      { path: '[0].data.added', after: { x: 1 } },
    ]);
  });

  it('reports a whole event when the candidate emits more events than were stored', () => {
    expect(sut([], [{ type: 't' }])).toEqual([{ path: '[0]', after: { type: 't' } }]);
  });

  it('compares an array with an object as one changed value, not key by key', () => {
    expect(sut([{ data: [1] }], [{ data: { 0: 1 } }])).toEqual([{ path: '[0].data', before: [1], after: { 0: 1 } }]);
  });
});
