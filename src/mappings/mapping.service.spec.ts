import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MappingErrorCode, MappingException } from './mapping.exception';
import { MappingContext, MappingService } from './mapping.service';

describe(MappingService.name, () => {
  const root = mkdtempSync(join(tmpdir(), 'mappings-'));
  mkdirSync(join(root, 'acme'));
  const write = (event: string, expression: string) =>
    writeFileSync(join(root, 'acme', `${event}.jsonata`), expression);
  const context = (vendorEventType: string): MappingContext => ({
    connector: 'acme',
    vendorEventType,
    inboundEventId: 'in_1',
    sourceId: 'src_1',
    receivedAt: new Date('2026-01-01T00:00:00Z'),
    test: false,
  });
  const sut = new MappingService(root);

  async function failure(vendorEventType: string, body: unknown = {}): Promise<MappingException> {
    try {
      await sut.map(body, context(vendorEventType));
    } catch (err) {
      if (err instanceof MappingException) return err;
      throw err;
    }
    throw new Error('expected a MappingException');
  }

  write('ok', '{"type": "tag.created", "subject": "tag:acme:" & id, "data": {"id": id, "name": name}}');
  write('forever', '($loop := function($n) { $loop($n + 1) + 1 }; $loop(0))');
  write('spin', '($spin := function($n) { $n > 0 ? $spin($n) : 0 }; $spin(1))');
  write('deep', '($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))');
  write('nothing', 'missing.field');
  write('invalid', '{"type": "tag.created", "subject": "tag:acme:1", "data": {"name": null}}');
  write('broken', '{"type": ');

  it('maps and wraps the output in a CloudEvents envelope with a stable id', async () => {
    const [first] = await sut.map({ id: 't1', name: 'churn' }, context('ok'));
    const [again] = await sut.map({ id: 't1', name: 'churn' }, context('ok'));
    expect(first).toMatchObject({
      specversion: '1.0',
      type: 'tag.created',
      subject: 'tag:acme:t1',
      source: 'switchboard/sources/src_1',
      time: '2026-01-01T00:00:00.000Z',
      data: { id: 't1', name: 'churn' },
    });
    expect(again.id).toBe(first.id);
  });

  it('fails a mapping that recurses forever with a clear error, without hanging', async () => {
    const err = await failure('forever');
    expect(err.code).toBe(MappingErrorCode.Bounds);
    expect(err.message).toMatch(/acme\/forever (recursed deeper than|ran longer than)/);
  });

  it('fails a mapping that loops in tail position within the time bound', async () => {
    const err = await failure('spin');
    expect(err.code).toBe(MappingErrorCode.Bounds);
  });

  it('fails deep recursion on the depth bound', async () => {
    const err = await failure('deep');
    expect(err.code).toBe(MappingErrorCode.Bounds);
  });

  it('fails a mapping that produces nothing, so no event is dropped silently', async () => {
    expect((await failure('nothing')).code).toBe(MappingErrorCode.Empty);
  });

  it('fails output that is not a valid canonical event, naming the field', async () => {
    const err = await failure('invalid');
    expect(err.code).toBe(MappingErrorCode.Invalid);
    expect(err.message).toContain('data.name: is null');
    expect(err.message).toContain('data.id');
  });

  it('reports a mapping that does not compile', async () => {
    expect((await failure('broken')).code).toBe(MappingErrorCode.Compile);
  });

  it('reports a missing mapping and refuses path tricks in the event type', async () => {
    expect((await failure('absent')).code).toBe(MappingErrorCode.NotFound);
    expect((await failure('../etc/passwd')).code).toBe(MappingErrorCode.NotFound);
  });
});
