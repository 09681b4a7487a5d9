import { FoundGroup, groupId, IssueKind, kindOfGroupId } from './issue';
import { IssuesErrorCode } from './issues.exception';
import { IssuesService } from './issues.service';

const at = (iso: string) => new Date(iso);

function found(kind: FoundGroup['kind'], key: FoundGroup['key'], lastSeenAt: string, withAction = true): FoundGroup {
  return {
    kind,
    title: `${kind} group`,
    key,
    count: 2,
    firstSeenAt: at('2026-03-01T00:00:00Z'),
    lastSeenAt: at(lastSeenAt),
    sampleIds: ['a', 'b'],
    action: withAction ? { kind: kind === 'delivery' ? 'retry' : 'renormalize', label: 'Do it' } : null,
  };
}

describe(IssuesService.name, () => {
  const deliveryKey = { destinationId: 'dst_1', status: 'exhausted', code: 'HTTP 502' };
  const mappingKey = { connector: 'salesask', eventType: 'recording.processed', reason: 'x'.repeat(300) };
  const verificationKey = { sourceId: 'src_1', reason: 'bad_signature' };

  function build() {
    const delivery: IssueKind = {
      kind: 'delivery',
      groups: jest.fn(async () => [found('delivery', deliveryKey, '2026-03-02T00:00:00Z')]),
      act: jest.fn(async () => 2),
    };
    const mapping: IssueKind = {
      kind: 'mapping',
      groups: jest.fn(async () => [found('mapping', mappingKey, '2026-03-03T00:00:00Z')]),
      act: jest.fn(async () => 2),
    };
    const verification: IssueKind = {
      kind: 'verification',
      groups: jest.fn(async () => [found('verification', verificationKey, '2026-03-01T12:00:00Z', false)]),
    };
    return { sut: new IssuesService([delivery, mapping, verification]), delivery, mapping, verification };
  }

  it('lists every kind, the most recently seen group first, each with its id', async () => {
    const { sut } = build();
    const { groups } = await sut.list();
    expect(groups.map((g) => g.kind)).toEqual(['mapping', 'delivery', 'verification']);
    expect(groups.map((g) => g.id)).toEqual([
      groupId('mapping', mappingKey),
      groupId('delivery', deliveryKey),
      groupId('verification', verificationKey),
    ]);
  });

  it('gives a group the same short, URL-safe id whatever the order of its key fields', () => {
    const id = groupId('mapping', mappingKey);
    expect(id).toMatch(/^mapping\.[A-Za-z0-9_-]{22}$/);
    expect(
      groupId('mapping', { reason: mappingKey.reason, eventType: mappingKey.eventType, connector: 'salesask' }),
    ).toBe(id);
    expect(groupId('mapping', { ...mappingKey, reason: 'other' })).not.toBe(id);
    expect(kindOfGroupId(id)).toBe('mapping');
    expect(kindOfGroupId('nokind.AAAAAAAAAAAAAAAAAAAAAA')).toBeUndefined();
    expect(kindOfGroupId('mapping.short')).toBeUndefined();
  });

  it('finds one group by id, asking only its kind', async () => {
    const { sut, delivery, mapping } = build();
    const group = await sut.get(groupId('delivery', deliveryKey));
    expect(group).toMatchObject({ kind: 'delivery', key: deliveryKey, id: groupId('delivery', deliveryKey) });
    expect(delivery.groups).toHaveBeenCalledTimes(1);
    expect(mapping.groups).not.toHaveBeenCalled();
  });

  it('answers not found for a group no longer failing, an unknown kind or a malformed id', async () => {
    const { sut } = build();
    for (const id of [
      groupId('delivery', { ...deliveryKey, code: 'HTTP 500' }),
      'enrichment.AAAAAAAAAAAAAAAAAAAAAA',
      'x',
    ]) {
      await expect(sut.get(id)).rejects.toMatchObject({ code: IssuesErrorCode.NotFound });
      await expect(sut.act(id)).rejects.toMatchObject({ code: IssuesErrorCode.NotFound });
    }
  });

  it("runs the group's action with its key and reports the count; a group without one is refused", async () => {
    const { sut, mapping } = build();
    expect(await sut.act(groupId('mapping', mappingKey))).toEqual({ kind: 'renormalize', count: 2 });
    expect(mapping.act).toHaveBeenCalledWith(mappingKey);
    await expect(sut.act(groupId('verification', verificationKey))).rejects.toMatchObject({
      code: IssuesErrorCode.NoAction,
    });
  });
});
