import { decodeCursor, encodeCursor, toPage } from './page-cursor';

describe(`${encodeCursor.name} / ${decodeCursor.name} / ${toPage.name}`, () => {
  it('round-trips a position, microseconds included', () => {
    const position = { at: '2026-12-01T09:30:00.123456Z', id: 'in_a' };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
  });

  it.each(['', 'not-a-cursor', Buffer.from('{"at":1}').toString('base64url'), encodeCursor({ at: 'soon', id: 'x' })])(
    'refuses %j',
    (cursor) => {
      expect(decodeCursor(cursor)).toBeUndefined();
    },
  );

  it('gives a next cursor only when the extra row says another page exists', () => {
    const rows = [1, 2, 3].map((n) => ({ id: `in_${n}`, position: `2026-01-0${n}T00:00:00.000000Z`, n }));
    const page = toPage(rows, 2);
    expect(page.items).toEqual([
      { id: 'in_1', n: 1 },
      { id: 'in_2', n: 2 },
    ]);
    expect(decodeCursor(page.nextCursor!)).toEqual({ at: '2026-01-02T00:00:00.000000Z', id: 'in_2' });
    expect(toPage(rows, 3).nextCursor).toBeUndefined();
  });
});
