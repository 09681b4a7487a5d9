import { Inject, Injectable } from '@nestjs/common';
import { InjectRepo } from '../database/database.module';
import jsonata from 'jsonata';
import { randomBytes } from 'node:crypto';
import { IsNull, Repository } from 'typeorm';
import { CANONICAL_TYPES } from '../canonical/cloud-event';
import { globToRegExp } from '../common/glob';
import { isHeaderName } from '../common/header-name';
import { randomId } from '../common/ids';
import { SECRET_BOX } from '../common/secret-box.provider';
import { SecretBox } from '../common/secret-box';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import {
  CreateDestinationDto,
  DestinationHealthView,
  DestinationPurge,
  DestinationView,
  UpdateDestinationDto,
} from './destination.dto';
import { configSpecFor, normalizeConfig } from './adapters/config-specs';
import { DestinationEntity, DestinationType } from './destination.entity';
import { DestinationErrorCode, DestinationException } from './destination.exception';
import { checkTarget, urlProblem } from '../outbound/outbound-guard';
import { headerValueProblem } from '../outbound/outbound-headers';

/** A signing secret; a rotated-out one keeps signing until `expiresAt` (Standard Webhooks rotation grace). */
export interface SigningSecret {
  secret: string;
  expiresAt?: string;
}

export const ROTATION_GRACE_MS = 24 * 3600 * 1000;

/** What a PATCH did; a re-enabled destination's answer tells what it missed. */
export interface DestinationUpdate {
  entity: DestinationEntity;
  /** It was disabled and is active again: `missedSince`/`missedUntil` hold the spell it was disabled for. */
  reEnabled: boolean;
}

/** Headers the hub sets itself; a destination may not override them. */
const RESERVED_HEADERS = /^(content-type|content-length|host|webhook-id|webhook-timestamp|webhook-signature)$/i;

@Injectable()
export class DestinationService {
  private readonly recent = new Map<string, { destination: DestinationEntity | null; until: number }>();

  constructor(
    @InjectRepo(DestinationEntity) private readonly destinations: Repository<DestinationEntity>,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  async create(dto: CreateDestinationDto): Promise<{ entity: DestinationEntity; secret: string }> {
    const crm = dto.type === 'webhook' ? undefined : await this.checkConfig(dto.type, dto.config ?? {});
    if (dto.type === 'webhook') await this.assertTarget(dto.url!);
    else if (dto.url !== undefined) {
      throw new DestinationException(
        DestinationErrorCode.InvalidConfig,
        `url: a ${dto.type} destination takes config, not url`,
      );
    }
    assertEventTypes(dto.eventTypes);
    assertHeaders(dto.headers);
    assertFilter(dto.filter);
    const secret = dto.secret ?? generateSecret();
    const entity = await this.destinations.save(
      this.destinations.create({
        id: randomId('dst'),
        name: dto.name,
        type: dto.type,
        url: dto.url ?? null,
        config: crm?.config ?? null,
        configSecretsSealed: crm ? this.box.seal(crm.secrets) : null,
        eventTypes: dto.eventTypes,
        secretsSealed: this.box.seal([{ secret }] satisfies SigningSecret[]),
        headersSealed: this.box.seal(dto.headers ?? {}),
        filter: dto.filter ?? null,
        includeTest: dto.includeTest ?? false,
        retrySchedule: dto.retrySchedule ?? null,
        status: 'active',
        disabledReason: null,
        disabledAt: null,
        missedSince: null,
        missedUntil: null,
      }),
    );
    return { entity, secret };
  }

  async update(id: string, dto: UpdateDestinationDto): Promise<DestinationUpdate> {
    const destination = await this.get(id);
    if (destination.archivedAt) {
      throw new DestinationException(
        DestinationErrorCode.Archived,
        `Destination ${id} was deleted (archived) on ${destination.archivedAt.toISOString()}; create a new one instead`,
      );
    }
    if (dto.url && destination.type !== 'webhook') {
      throw new DestinationException(
        DestinationErrorCode.InvalidConfig,
        `url: a ${destination.type} destination takes config, not url`,
      );
    }
    if (dto.config && destination.type === 'webhook') {
      throw new DestinationException(DestinationErrorCode.InvalidConfig, 'config: a webhook destination takes url');
    }
    if (dto.url) await this.assertTarget(dto.url);
    if (dto.config) {
      // Keys not given keep their value; secrets too, since the API never shows them.
      const crm = await this.checkConfig(destination.type, { ...this.openConfig(destination), ...dto.config });
      destination.config = crm.config;
      destination.configSecretsSealed = this.box.seal(crm.secrets);
    }
    if (dto.eventTypes) assertEventTypes(dto.eventTypes);
    assertHeaders(dto.headers);
    assertFilter(dto.filter || undefined);
    Object.assign(destination, {
      name: dto.name ?? destination.name,
      url: dto.url ?? destination.url,
      eventTypes: dto.eventTypes ?? destination.eventTypes,
      filter: dto.filter === undefined ? destination.filter : dto.filter || null,
      includeTest: dto.includeTest ?? destination.includeTest,
      retrySchedule:
        dto.retrySchedule === undefined
          ? destination.retrySchedule
          : dto.retrySchedule.length
            ? dto.retrySchedule
            : null,
    });
    if (dto.headers) destination.headersSealed = this.box.seal(dto.headers);
    const enable = enabledIn(dto);
    const reEnabled = enable === true && destination.status === 'disabled';
    if (reEnabled) {
      // The spell it was disabled for is what it missed; replay-missed reads it after disabledAt is cleared.
      destination.missedSince = destination.disabledAt ?? destination.updatedAt;
      destination.missedUntil = new Date();
      Object.assign(destination, { status: 'active', disabledReason: null, disabledAt: null });
    } else if (enable === false && destination.status === 'active') {
      const now = new Date();
      Object.assign(destination, {
        status: 'disabled',
        disabledReason: `disabled by an operator on ${now.toISOString()}`,
        disabledAt: now,
      });
    }
    return { entity: await this.destinations.save(destination), reEnabled };
  }

  /** New secret first; the old ones keep signing for the grace period so receivers can roll over. */
  async rotateSecret(id: string): Promise<{ entity: DestinationEntity; secret: string }> {
    const destination = await this.get(id);
    const now = Date.now();
    const secret = generateSecret();
    const previous = this.liveSecrets(destination, now).map((s) => ({
      secret: s.secret,
      expiresAt: s.expiresAt ?? new Date(now + ROTATION_GRACE_MS).toISOString(),
    }));
    destination.secretsSealed = this.box.seal([{ secret }, ...previous]);
    return { entity: await this.destinations.save(destination), secret };
  }

  /** Secrets that sign right now: the current one and any still in their grace period. */
  signingSecrets(destination: DestinationEntity): string[] {
    return this.liveSecrets(destination, Date.now()).map((s) => s.secret);
  }

  /** The current secret and the rotated-out ones whose grace period has not ended. */
  private liveSecrets(destination: DestinationEntity, now: number): SigningSecret[] {
    return this.box
      .open<SigningSecret[]>(destination.secretsSealed)
      .filter((s) => !s.expiresAt || Date.parse(s.expiresAt) > now);
  }

  /** A CRM destination's config with its secrets opened, for its adapter. */
  openConfig(destination: DestinationEntity): Record<string, unknown> {
    const secrets = destination.configSecretsSealed
      ? this.box.open<Record<string, string>>(destination.configSecretsSealed)
      : {};
    return { ...(destination.config ?? {}), ...secrets };
  }

  headers(destination: DestinationEntity): Record<string, string> {
    return this.box.open<Record<string, string>>(destination.headersSealed);
  }

  /** A 410 from the receiver: disabled from now on (or since it already was), with the reason. */
  async disable(id: string, reason: string): Promise<void> {
    await this.destinations.query(
      `UPDATE destination SET status = 'disabled', disabled_reason = $2, disabled_at = coalesce(disabled_at, now()),
           updated_at = now()
       WHERE id = $1`,
      [id, reason],
    );
  }

  /**
   * The failure window: disables an active destination, unless an operator or a 410 got there first (its reason
   * stays). Returns whether this call disabled it.
   */
  async autoDisable(id: string, reason: string, at: Date): Promise<boolean> {
    const [rows]: [unknown[], number] = await this.destinations.query(
      `UPDATE destination SET status = 'disabled', disabled_reason = $2, disabled_at = $3, updated_at = now()
       WHERE id = $1 AND status = 'active' AND archived_at IS NULL RETURNING id`,
      [id, reason, at],
    );
    this.recent.delete(id);
    return rows.length > 0;
  }

  /**
   * Deleting archives: the destination is disabled (nothing more is routed to it; owed deliveries end `failed`)
   * and leaves the lists, but its deliveries and attempts stay readable. Deleting twice is harmless.
   */
  async archive(id: string): Promise<void> {
    const destination = await this.get(id);
    if (destination.archivedAt) return;
    const now = new Date();
    await this.destinations.update(
      { id },
      {
        status: 'disabled',
        disabledReason: 'deleted (archived)',
        disabledAt: destination.disabledAt ?? now,
        archivedAt: now,
      },
    );
    this.recent.delete(id);
  }

  /**
   * Deletes the destination and, through the ON DELETE CASCADE keys, its deliveries, attempts and CRM id ledger.
   * With deliveries it needs the caller's confirmation, after being told what would go.
   */
  async purge(id: string, confirmed: boolean): Promise<DestinationPurge> {
    await this.get(id);
    const result = await this.destinations.manager.transaction(async (manager) => {
      const [counts]: DestinationPurge['deleted'][] = await manager.query(
        `SELECT (SELECT count(*)::int FROM delivery WHERE destination_id = $1) AS deliveries,
                (SELECT count(*)::int FROM delivery_attempt a JOIN delivery d ON d.id = a.delivery_id
                  WHERE d.destination_id = $1) AS attempts,
                (SELECT count(*)::int FROM crm_ledger WHERE destination_id = $1) AS "ledgerEntries"`,
        [id],
      );
      if (counts.deliveries > 0 && !confirmed) return { confirmed: false as const, counts };
      await manager.query(`DELETE FROM destination WHERE id = $1`, [id]);
      return { confirmed: true as const, counts };
    });
    this.recent.delete(id);
    if (!result.confirmed) {
      const { deliveries, attempts, ledgerEntries } = result.counts;
      throw new DestinationException(
        DestinationErrorCode.PurgeNotConfirmed,
        `Purging destination ${id} deletes ${deliveries} deliveries, ${attempts} attempts and ${ledgerEntries} ` +
          `CRM id ledger entries for good; repeat with ?confirm=true to purge`,
      );
    }
    return { id, purged: true, deleted: result.counts };
  }

  /** Archived destinations only when asked for. */
  list(includeArchived = false): Promise<DestinationEntity[]> {
    return this.destinations.find({
      where: includeArchived ? {} : { archivedAt: IsNull() },
      order: { createdAt: 'ASC' },
    });
  }

  active(): Promise<DestinationEntity[]> {
    return this.destinations.findBy({ status: 'active' });
  }

  /** As find, from a copy at most two seconds old: the deliver job's per-attempt look-up of the destination type. */
  async findCached(id: string): Promise<DestinationEntity | null> {
    const now = Date.now();
    const hit = this.recent.get(id);
    if (hit && hit.until > now) return hit.destination;
    const destination = await this.find(id);
    if (this.recent.size > 10_000) this.recent.clear();
    this.recent.set(id, { destination, until: now + 2000 });
    return destination;
  }

  /** The destination, or null when it was deleted (the pipeline asks about destinations of stored deliveries). */
  find(id: string): Promise<DestinationEntity | null> {
    return this.destinations.findOneBy({ id });
  }

  async get(id: string): Promise<DestinationEntity> {
    const destination = await this.destinations.findOneBy({ id });
    if (!destination) throw new DestinationException(DestinationErrorCode.NotFound, `Destination ${id} not found`);
    return destination;
  }

  /** The API's shape: secrets never, the signing secret only when just made (`secret`); health always. */
  view(destination: DestinationEntity, health: DestinationHealthView, secret?: string): DestinationView {
    return {
      id: destination.id,
      name: destination.name,
      type: destination.type,
      ...(destination.url ? { url: destination.url } : {}),
      ...(destination.config ? { config: destination.config } : {}),
      ...(destination.configSecretsSealed
        ? { configSecrets: Object.keys(this.box.open<Record<string, string>>(destination.configSecretsSealed)) }
        : {}),
      eventTypes: destination.eventTypes,
      headers: Object.keys(this.headers(destination)),
      ...(destination.filter ? { filter: destination.filter } : {}),
      includeTest: destination.includeTest,
      ...(destination.retrySchedule ? { retrySchedule: destination.retrySchedule } : {}),
      status: destination.status,
      disabledReason: destination.disabledReason,
      disabledAt: destination.disabledAt,
      ...(destination.archivedAt ? { archivedAt: destination.archivedAt } : {}),
      createdAt: destination.createdAt,
      updatedAt: destination.updatedAt,
      ...(secret ? { secret } : {}),
      health,
    };
  }

  private async checkConfig(type: DestinationType, given: Record<string, unknown>) {
    const spec = configSpecFor(type);
    if (!spec) throw new DestinationException(DestinationErrorCode.InvalidConfig, `type ${type} is not available`);
    const checked = normalizeConfig(spec, given);
    if (typeof checked === 'string') throw new DestinationException(DestinationErrorCode.InvalidConfig, checked);
    for (const key of spec.urlKeys) await this.assertTarget(checked.config[key] as string);
    return checked;
  }

  private async assertTarget(url: string): Promise<void> {
    const invalid = urlProblem(url);
    if (invalid) throw new DestinationException(DestinationErrorCode.InvalidUrl, invalid);
    const refused = await checkTarget(url, this.config.outboundAllow);
    if (refused) throw new DestinationException(DestinationErrorCode.TargetRefused, refused);
  }
}

/** `enabled` and `status` say the same; both given must agree. undefined: neither asks for a change. */
function enabledIn(dto: UpdateDestinationDto): boolean | undefined {
  const fromStatus = dto.status === undefined ? undefined : dto.status === 'active';
  if (dto.enabled !== undefined && fromStatus !== undefined && dto.enabled !== fromStatus) {
    throw new DestinationException(
      DestinationErrorCode.InvalidConfig,
      `enabled: ${dto.enabled} contradicts status: "${dto.status}"; give one of them`,
    );
  }
  return dto.enabled ?? fromStatus;
}

function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Each glob must match at least one canonical type: `activity.*` written for contacts, or a typo, would otherwise
 * route nothing, silently (issue 9).
 */
function assertEventTypes(globs: string[]): void {
  const unmatched = globs.filter((glob) => !CANONICAL_TYPES.some((type) => globToRegExp(glob).test(type)));
  if (!unmatched.length) return;
  throw new DestinationException(
    DestinationErrorCode.UnknownEventTypes,
    `eventTypes: ${unmatched.map((g) => `"${g}"`).join(', ')} match${unmatched.length === 1 ? 'es' : ''} no canonical ` +
      `type; the types are (GET /api/canonical): ${CANONICAL_TYPES.join(', ')}`,
  );
}

function assertHeaders(headers: Record<string, unknown> | undefined): void {
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!isHeaderName(name) || RESERVED_HEADERS.test(name)) {
      throw new DestinationException(DestinationErrorCode.InvalidHeaders, `headers: "${name}" cannot be set`);
    }
    if (typeof value !== 'string') {
      throw new DestinationException(DestinationErrorCode.InvalidHeaders, `headers: "${name}" must be a string`);
    }
    // Node refuses to send such a value; accepting it would make every delivery fail (issue 7).
    const problem = headerValueProblem(value);
    if (problem) throw new DestinationException(DestinationErrorCode.InvalidHeaders, `headers: "${name}" ${problem}`);
  }
}

function assertFilter(filter: string | undefined): void {
  if (!filter) return;
  try {
    jsonata(filter);
  } catch (err) {
    throw new DestinationException(
      DestinationErrorCode.InvalidFilter,
      `filter is not valid JSONata: ${(err as { message?: string }).message}`,
    );
  }
}
