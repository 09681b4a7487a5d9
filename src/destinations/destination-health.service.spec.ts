import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { mockOf, silentLogger, testConfig } from '../../test/helpers/mocks';
import { CloudEvent } from '../canonical/cloud-event';
import { SecretBox } from '../common/secret-box';
import { DeliveryHealthRow, DeliveryService, MissedEvent } from '../delivery/delivery.service';
import { MetricsService } from '../metrics/metrics.service';
import { PipelineQueue } from '../pipeline/pipeline.queue';
import { RoutingService } from '../routing/routing.service';
import {
  DestinationHealthService,
  ERROR_SUMMARY_MAX,
  formatDuration,
  REENABLE_SLACK_MS,
  REPLAY_PAGE,
  summarizeError,
} from './destination-health.service';
import { DestinationEntity } from './destination.entity';
import { DestinationException } from './destination.exception';
import { DestinationService } from './destination.service';

describe(summarizeError.name, () => {
  it('keeps a plain reason as it is, and nothing stays nothing', () => {
    expect(summarizeError('HTTP 503')).toBe('HTTP 503');
    expect(summarizeError(null)).toBeNull();
    expect(summarizeError('')).toBeNull();
  });

  it("replaces the destination's own secrets wherever a receiver echoes them", () => {
    expect(summarizeError('HTTP 400: bad header x-team=hdr-value-123456', ['hdr-value-123456'])).toBe(
      'HTTP 400: bad header x-team=[redacted]',
    );
  });

  it.each([
    ['rejected whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'rejected [redacted]'],
    ['HTTP 401 Authorization: Bearer eyJhbGciOi.abc.def', 'HTTP 401 Authorization: [redacted]'],
    ['refused Bearer abc.def-ghi', 'refused Bearer [redacted]'],
    [
      'GET https://api.pipedrive.com/v1/persons?api_token=abc123&x=1 failed',
      'GET https://api.pipedrive.com/v1/persons?api_token=[redacted]&x=1 failed',
    ],
    ['{"error":"invalid","token":"pat-na1-1234"}', '{"error":"invalid","token":"[redacted]"}'],
    [
      'connect ECONNREFUSED https://user:pa55@hooks.example.com/x',
      'connect ECONNREFUSED https://[redacted]@hooks.example.com/x',
    ],
    [`signature mismatch ${'a1b2'.repeat(16)}`, 'signature mismatch [redacted]'],
  ])('redacts credentials by their shape: %s', (error, summary) => {
    expect(summarizeError(error)).toBe(summary);
  });

  it(`is one line of at most ${ERROR_SUMMARY_MAX} characters`, () => {
    const summary = summarizeError(`HTTP 500\n\n  ${'the receiver said something long. '.repeat(20)}`)!;
    expect(summary).not.toMatch(/\n/);
    expect(summary.length).toBe(ERROR_SUMMARY_MAX);
    expect(summary).toMatch(/^HTTP 500 the receiver said.*…$/);
  });
});

describe(formatDuration.name, () => {
  it.each([
    [5 * 86_400_000, '5 days'],
    [86_400_000, '1 day'],
    [36 * 3600_000, '36 hours'],
    [90 * 60_000, '90 minutes'],
    [3000, '3 seconds'],
    [1500, '1500 ms'],
  ])('%d ms reads "%s"', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe(DestinationHealthService.name, () => {
  const now = new Date('2026-12-01T12:00:00.000Z');
  const box = new SecretBox(randomBytes(32));

  function destination(overrides: Partial<DestinationEntity> = {}): DestinationEntity {
    return Object.assign(new DestinationEntity(), {
      id: 'dst_a',
      name: 'Warehouse',
      type: 'webhook',
      url: 'http://127.0.0.1:9/hook',
      config: null,
      configSecretsSealed: null,
      eventTypes: ['activity.*'],
      secretsSealed: box.seal([{ secret: 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ1Ng==' }]),
      headersSealed: box.seal({ 'x-api-key': 'header-secret-value' }),
      filter: null,
      includeTest: false,
      retrySchedule: null,
      status: 'active',
      disabledReason: null,
      disabledAt: null,
      missedSince: null,
      missedUntil: null,
      archivedAt: null,
      createdAt: new Date('2026-11-01T00:00:00Z'),
      updatedAt: new Date('2026-11-01T00:00:00Z'),
      ...overrides,
    } satisfies DestinationEntity);
  }

  function build(env: Record<string, string> = {}, known: DestinationEntity[] = [destination()]) {
    const destinations = new DestinationService(mockOf<Repository<DestinationEntity>>(), box, testConfig());
    jest.spyOn(destinations, 'active').mockResolvedValue(known.filter((d) => d.status === 'active'));
    jest.spyOn(destinations, 'list').mockResolvedValue(known);
    jest.spyOn(destinations, 'get').mockImplementation((id) => Promise.resolve(known.find((d) => d.id === id)!));
    const autoDisable = jest.spyOn(destinations, 'autoDisable').mockResolvedValue(true);
    const deliveries = mockOf<DeliveryService>({
      health: jest.fn().mockResolvedValue([]),
      failingThroughout: jest.fn().mockResolvedValue([]),
      countMissed: jest.fn().mockResolvedValue(0),
      missedPage: jest.fn().mockResolvedValue([]),
      retryCutOff: jest.fn().mockResolvedValue([]),
    });
    const manager = {} as EntityManager;
    const dataSource = mockOf<DataSource>({
      transaction: jest.fn((work: (m: EntityManager) => Promise<unknown>) => work(manager)),
    });
    const routing = mockOf<RoutingService>({
      route: jest.fn((_m, event: CloudEvent) =>
        Promise.resolve([{ id: `msg_${event.id}`, destinationId: 'dst_a', status: 'pending' }]),
      ),
    });
    const queue = mockOf<PipelineQueue>({ deliver: jest.fn().mockResolvedValue(true) });
    const metrics = new MetricsService();
    const sut = new DestinationHealthService(
      dataSource,
      destinations,
      deliveries,
      routing,
      queue,
      metrics,
      box,
      testConfig(env),
      silentLogger,
    );
    return { sut, destinations, deliveries, routing, queue, metrics, autoDisable, manager };
  }

  describe('health', () => {
    it('computes the success rate over the finished deliveries and redacts the last error', async () => {
      const { sut, deliveries } = build();
      const row: DeliveryHealthRow = {
        destinationId: 'dst_a',
        delivered: 3,
        failed: 1,
        backlog: 2,
        lastSuccessAt: new Date('2026-12-01T11:00:00Z'),
        lastFailureAt: new Date('2026-12-01T11:30:00Z'),
        lastError: 'HTTP 401: header x-api-key=header-secret-value refused',
      };
      deliveries.health.mockResolvedValue([row]);
      const health = await sut.health([destination()], now);
      expect(deliveries.health).toHaveBeenCalledWith(['dst_a'], new Date('2026-11-30T12:00:00.000Z'));
      expect(health.get('dst_a')).toEqual({
        successRate: 0.75,
        delivered24h: 3,
        failed24h: 1,
        backlog: 2,
        lastSuccessAt: '2026-12-01T11:00:00.000Z',
        lastFailureAt: '2026-12-01T11:30:00.000Z',
        lastError: 'HTTP 401: header x-api-key=[redacted] refused',
      });
    });

    it('answers null figures, not zero rates, for a destination with no deliveries', async () => {
      const { sut } = build();
      expect((await sut.health([destination()], now)).get('dst_a')).toEqual({
        successRate: null,
        delivered24h: 0,
        failed24h: 0,
        backlog: 0,
        lastSuccessAt: null,
        lastFailureAt: null,
        lastError: null,
      });
    });

    it('puts health, disabledReason and disabledAt on every view, secrets never', async () => {
      const { sut } = build();
      const [view] = await sut.views([destination()]);
      expect(view).toMatchObject({ id: 'dst_a', disabledReason: null, disabledAt: null, health: { backlog: 0 } });
      expect(JSON.stringify(view)).not.toContain('header-secret-value');
    });
  });

  describe('disableFailing', () => {
    it('looks back over the shipped default window, 5 days, from when each was last re-enabled', async () => {
      const reEnabled = new Date('2026-11-20T00:00:00Z');
      const { sut, deliveries } = build({}, [destination(), destination({ id: 'dst_b', missedUntil: reEnabled })]);
      await sut.disableFailing(now);
      expect(deliveries.failingThroughout).toHaveBeenCalledWith(
        [
          { id: 'dst_a', enabledSince: null },
          { id: 'dst_b', enabledSince: reEnabled },
        ],
        new Date('2026-11-26T12:00:00.000Z'),
      );
    });

    it('disables with a reason that says why and since when, counts it and redacts the last error', async () => {
      const { sut, deliveries, autoDisable, metrics } = build({ HUB_DESTINATION_DISABLE_AFTER: '36h' });
      deliveries.failingThroughout.mockResolvedValue([
        {
          destinationId: 'dst_a',
          lastSuccessAt: new Date('2026-11-20T08:00:00Z'),
          failingSince: new Date('2026-11-25T09:00:00Z'),
          lastError: 'HTTP 403 Bearer abcdefgh',
        },
      ]);
      expect(await sut.disableFailing(now)).toEqual(['dst_a']);
      expect(autoDisable).toHaveBeenCalledWith(
        'dst_a',
        'auto-disabled on 2026-12-01T12:00:00.000Z: every delivery since 2026-11-25T09:00:00.000Z ended exhausted ' +
          'and none succeeded for 36 hours (HUB_DESTINATION_DISABLE_AFTER); last success: 2026-11-20T08:00:00.000Z; ' +
          'last error: HTTP 403 Bearer [redacted]',
        now,
      );
      const counted = await metrics.destinationsAutoDisabled.get();
      expect(counted.values).toEqual([
        { labels: { destination: 'dst_a', name: 'Warehouse', type: 'webhook' }, value: 1 },
      ]);
    });

    it('counts nothing when an operator or a 410 disabled it first', async () => {
      const { sut, deliveries, autoDisable, metrics } = build();
      deliveries.failingThroughout.mockResolvedValue([
        {
          destinationId: 'dst_a',
          lastSuccessAt: null,
          failingSince: new Date('2026-11-01T00:00:00Z'),
          lastError: null,
        },
      ]);
      autoDisable.mockResolvedValue(false);
      expect(await sut.disableFailing(now)).toEqual([]);
      expect((await metrics.destinationsAutoDisabled.get()).values).toEqual([]);
    });

    it('does nothing when HUB_DESTINATION_DISABLE_AFTER=0', async () => {
      const { sut, deliveries } = build({ HUB_DESTINATION_DISABLE_AFTER: '0' });
      expect(await sut.disableFailing(now)).toEqual([]);
      expect(deliveries.failingThroughout).not.toHaveBeenCalled();
    });

    it('runs no check in an api-only process', () => {
      const { sut, deliveries } = build({ HUB_ROLE: 'api' });
      sut.onApplicationBootstrap();
      expect(deliveries.failingThroughout).not.toHaveBeenCalled();
    });

    it.each([
      ['5d', 5 * 60_000],
      ['20s', 2000],
      ['3s', 1000],
    ])('checks a window of %s every %d ms', (window, ms) => {
      expect(build({ HUB_DESTINATION_DISABLE_AFTER: window }).sut.checkIntervalMs).toBe(ms);
    });
  });

  describe('missed and replayMissed', () => {
    const since = new Date('2026-11-28T00:00:00Z');
    const until = new Date('2026-12-01T11:00:00Z');
    const reEnabled = () =>
      destination({ eventTypes: ['contact.*', 'activity.completed'], missedSince: since, missedUntil: until });

    it('has nothing to say about a destination that was never disabled', async () => {
      const { sut, deliveries } = build();
      expect(await sut.missed(destination())).toBeUndefined();
      expect(await sut.replayMissed('dst_a')).toEqual({ count: 0 });
      expect(deliveries.missedPage).not.toHaveBeenCalled();
    });

    it('counts the events of its types from when it was disabled until a little after it was re-enabled', async () => {
      const { sut, deliveries } = build();
      deliveries.countMissed.mockResolvedValue(7);
      expect(await sut.missed(reEnabled())).toEqual({ count: 7, since: '2026-11-28T00:00:00.000Z' });
      expect(deliveries.countMissed).toHaveBeenCalledWith({
        destinationId: 'dst_a',
        types: ['activity.completed', 'contact.created', 'contact.updated', 'contact.deleted'],
        includeTest: false,
        since,
        until: new Date(until.getTime() + REENABLE_SLACK_MS),
      });
    });

    it('routes page after page to this destination alone, enqueues what it created, and counts only that', async () => {
      const known = [reEnabled()];
      const { sut, deliveries, routing, queue, manager } = build({}, known);
      const page = (from: number, size: number): MissedEvent[] =>
        Array.from({ length: size }, (_, i) => ({
          id: `evt_${from + i}`,
          createdAt: `2026-11-29T00:00:00.${String(from + i).padStart(6, '0')}Z`,
          event: { id: `evt_${from + i}`, type: 'activity.completed' } as CloudEvent,
        }));
      const first = page(0, REPLAY_PAGE);
      deliveries.missedPage.mockResolvedValueOnce(first).mockResolvedValueOnce(page(REPLAY_PAGE, 2));
      // One event was already routed by a concurrent call: ON CONFLICT DO NOTHING creates nothing for it.
      routing.route.mockImplementation((_m, event: CloudEvent) =>
        Promise.resolve(
          event.id === 'evt_3' ? [] : [{ id: `msg_${event.id}`, destinationId: 'dst_a', status: 'pending' as const }],
        ),
      );
      expect(await sut.replayMissed('dst_a')).toEqual({ count: REPLAY_PAGE + 1 });
      expect(deliveries.missedPage).toHaveBeenCalledTimes(2);
      expect(deliveries.missedPage.mock.calls[1][1]).toBe(first[REPLAY_PAGE - 1]);
      expect(routing.route).toHaveBeenCalledWith(manager, first[0].event, known);
      expect(queue.deliver).toHaveBeenCalledTimes(2);
      expect(queue.deliver.mock.calls[0][0]).toHaveLength(REPLAY_PAGE - 1);
      expect(queue.deliver.mock.calls[0][0]).not.toContainEqual(expect.objectContaining({ id: 'msg_evt_3' }));
    });

    it('first sends again, in pages, the deliveries that failed because it was disabled', async () => {
      const { sut, deliveries, queue } = build({}, [reEnabled()]);
      const owed = (n: number) =>
        Array.from({ length: n }, (_, i) => ({ id: `msg_${n}_${i}`, destinationId: 'dst_a' }));
      deliveries.retryCutOff.mockResolvedValueOnce(owed(REPLAY_PAGE)).mockResolvedValueOnce(owed(1));
      expect(await sut.replayMissed('dst_a')).toEqual({ count: REPLAY_PAGE + 1 });
      expect(deliveries.retryCutOff).toHaveBeenCalledTimes(2);
      expect(deliveries.retryCutOff).toHaveBeenCalledWith(
        expect.objectContaining({ destinationId: 'dst_a', since }),
        REPLAY_PAGE,
      );
      expect(queue.deliver.mock.calls.map(([batch]) => batch.length)).toEqual([REPLAY_PAGE, 1]);
    });

    it('refuses a disabled destination with a 409 that says how to re-enable it', async () => {
      const { sut, deliveries } = build({}, [
        destination({ status: 'disabled', disabledReason: 'disabled by an operator', missedSince: since }),
      ]);
      const refused = sut.replayMissed('dst_a');
      await expect(refused).rejects.toBeInstanceOf(DestinationException);
      await expect(refused).rejects.toMatchObject({ status: 409, message: expect.stringContaining('"enabled": true') });
      expect(deliveries.missedPage).not.toHaveBeenCalled();
      expect(deliveries.retryCutOff).not.toHaveBeenCalled();
    });
  });

  describe('refreshMetrics', () => {
    it('labels each destination by id, name and type, and leaves out figures it does not have', async () => {
      const { sut, deliveries, metrics } = build({}, [
        destination(),
        destination({ id: 'dst_b', name: 'CRM', type: 'hubspot', status: 'disabled' }),
      ]);
      deliveries.health.mockResolvedValue([
        {
          destinationId: 'dst_a',
          delivered: 1,
          failed: 1,
          backlog: 4,
          lastSuccessAt: new Date('2026-12-01T11:00:00Z'),
          lastFailureAt: null,
          lastError: null,
        },
      ]);
      await sut.refreshMetrics();
      const text = await metrics.registry.metrics();
      expect(text).toContain(
        'switchboard_destination_success_ratio{destination="dst_a",name="Warehouse",type="webhook"} 0.5',
      );
      expect(text).toContain('switchboard_destination_backlog{destination="dst_a",name="Warehouse",type="webhook"} 4');
      expect(text).toContain(
        `switchboard_destination_last_success_timestamp_seconds{destination="dst_a",name="Warehouse",type="webhook"} ${
          Date.parse('2026-12-01T11:00:00Z') / 1000
        }`,
      );
      expect(text).toContain('switchboard_destination_enabled{destination="dst_a",name="Warehouse",type="webhook"} 1');
      expect(text).toContain('switchboard_destination_enabled{destination="dst_b",name="CRM",type="hubspot"} 0');
      expect(text).toContain('switchboard_destination_backlog{destination="dst_b",name="CRM",type="hubspot"} 0');
      expect(text).not.toMatch(/switchboard_destination_success_ratio\{destination="dst_b"/);
      expect(text).not.toMatch(/switchboard_destination_last_failure_timestamp_seconds\{/);
    });
  });
});
