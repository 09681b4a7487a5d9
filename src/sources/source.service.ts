import { Inject, Injectable } from '@nestjs/common';
import { InjectRepo } from '../database/database.module';
import { IsNull, Repository } from 'typeorm';
import { randomId } from '../common/ids';
import { SECRET_BOX } from '../common/secret-box.provider';
import { SecretBox } from '../common/secret-box';
import { ConnectorRegistry } from '../connectors/connector.registry';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { checkTarget } from '../outbound/outbound-guard';
import { headerValueProblem } from '../outbound/outbound-headers';
import {
  CreateSourceDto,
  SourceEnrichmentDto,
  SourceEnrichmentView,
  SourcePurge,
  SourceView,
  UpdateSourceDto,
} from './source.dto';
import { SourceEntity } from './source.entity';
import { SourceErrorCode, SourceException } from './source.exception';

/** A source with its secrets opened, for the verifier. Never leaves the process. */
export interface LoadedSource {
  entity: SourceEntity;
  secrets: string[];
}

/** A source's enrichment credential, opened for the enrich step. Never leaves the process. */
export interface EnrichmentCredential {
  apiKey: string;
  /** The source's own base URL; undefined: the connector's documented one. */
  baseUrl?: string;
}

@Injectable()
export class SourceService {
  /** Ingest looks a source up on every delivery; a short cache keeps that off the database. */
  private readonly cache = new Map<string, { loaded: LoadedSource | null; until: number }>();
  private static readonly CACHE_MS = 2000;

  constructor(
    @InjectRepo(SourceEntity) private readonly sources: Repository<SourceEntity>,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
    private readonly connectors: ConnectorRegistry,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  async create(dto: CreateSourceDto): Promise<SourceEntity> {
    const connector = this.connectors.find(dto.connector);
    if (!connector) {
      throw new SourceException(
        SourceErrorCode.UnknownConnector,
        `Unknown connector "${dto.connector}"; see GET /api/connectors (${this.connectors
          .list()
          .map((c) => c.id)
          .join(', ')})`,
      );
    }
    const secrets = dto.secrets ?? [];
    const verification = dto.verification ?? {};
    this.assertValid(dto.connector, verification, secrets, dto.secrets);
    const enrichment = await this.resolveEnrichment(dto.connector, dto.enrichment, { key: null, baseUrl: null });
    return this.sources.save(
      this.sources.create({
        id: randomId('src'),
        name: dto.name,
        connector: dto.connector,
        secretsSealed: this.box.seal(secrets),
        verification,
        enrichmentKeySealed: enrichment.keySealed,
        enrichmentBaseUrl: enrichment.baseUrl,
        enabled: dto.enabled ?? true,
      }),
    );
  }

  async update(id: string, dto: UpdateSourceDto): Promise<SourceEntity> {
    const source = await this.getEntity(id);
    if (source.archivedAt) {
      throw new SourceException(
        SourceErrorCode.Archived,
        `Source ${id} was deleted (archived) on ${source.archivedAt.toISOString()}; create a new source instead`,
      );
    }
    const secrets = dto.secrets ?? this.box.open<string[]>(source.secretsSealed);
    const verification = dto.verification ?? source.verification;
    this.assertValid(source.connector, verification, secrets, dto.secrets);
    if (dto.enrichment !== undefined) {
      const enrichment = await this.resolveEnrichment(source.connector, dto.enrichment, {
        key: source.enrichmentKeySealed,
        baseUrl: source.enrichmentBaseUrl,
      });
      source.enrichmentKeySealed = enrichment.keySealed;
      source.enrichmentBaseUrl = enrichment.baseUrl;
    }
    source.name = dto.name ?? source.name;
    source.enabled = dto.enabled ?? source.enabled;
    source.verification = verification;
    source.secretsSealed = this.box.seal(secrets);
    const saved = await this.sources.save(source);
    this.cache.delete(id);
    return saved;
  }

  /**
   * Deleting archives: the source stops accepting deliveries (its URL answers 404) and leaves the lists, but its
   * events, their canonical output, deliveries and attempts stay readable. Deleting twice is harmless.
   */
  async archive(id: string): Promise<void> {
    const source = await this.getEntity(id);
    if (!source.archivedAt) await this.sources.update({ id }, { enabled: false, archivedAt: new Date() });
    this.cache.delete(id);
  }

  /**
   * Deletes the source and, through the ON DELETE CASCADE keys, its whole history. A source with events is purged
   * only when the caller confirms, after being told what would go; the answer says what went.
   */
  async purge(id: string, confirmed: boolean): Promise<SourcePurge> {
    await this.getEntity(id);
    const result = await this.sources.manager.transaction(async (manager) => {
      const [counts]: SourcePurge['deleted'][] = await manager.query(
        `SELECT count(DISTINCT i.id)::int AS events, count(DISTINCT c.id)::int AS "canonicalEvents",
                count(DISTINCT d.id)::int AS deliveries, count(a.id)::int AS attempts
         FROM inbound_event i
         LEFT JOIN canonical_event c ON c.inbound_event_id = i.id
         LEFT JOIN delivery d ON d.canonical_event_id = c.id
         LEFT JOIN delivery_attempt a ON a.delivery_id = d.id
         WHERE i.source_id = $1`,
        [id],
      );
      if (counts.events > 0 && !confirmed) return { confirmed: false as const, counts };
      await manager.query(`DELETE FROM source WHERE id = $1`, [id]);
      return { confirmed: true as const, counts };
    });
    this.cache.delete(id);
    if (!result.confirmed) {
      const { events, canonicalEvents, deliveries, attempts } = result.counts;
      throw new SourceException(
        SourceErrorCode.PurgeNotConfirmed,
        `Purging source ${id} deletes ${events} events, ${canonicalEvents} canonical events, ${deliveries} ` +
          `deliveries and ${attempts} attempts for good; repeat with ?confirm=true to purge`,
      );
    }
    return { id, purged: true, deleted: result.counts };
  }

  /** Archived sources only when asked for. */
  list(includeArchived = false): Promise<SourceEntity[]> {
    return this.sources.find({
      where: includeArchived ? {} : { archivedAt: IsNull() },
      order: { createdAt: 'ASC' },
    });
  }

  async getEntity(id: string): Promise<SourceEntity> {
    const source = await this.sources.findOneBy({ id });
    if (!source) throw new SourceException(SourceErrorCode.NotFound, `Source ${id} not found`);
    return source;
  }

  /** The source, or null when it no longer exists (the pipeline asks about sources of stored events). */
  find(id: string): Promise<SourceEntity | null> {
    return this.sources.findOneBy({ id });
  }

  /** For ingest: an enabled source with its secrets, or null. Cached briefly. */
  async loadForIngest(id: string): Promise<LoadedSource | null> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && hit.until > now) return hit.loaded;
    const entity = /^src_[0-9A-Za-z]{22}$/.test(id) ? await this.sources.findOneBy({ id }) : null;
    const loaded = entity?.enabled ? { entity, secrets: this.box.open<string[]>(entity.secretsSealed) } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(id, { loaded, until: now + SourceService.CACHE_MS });
    return loaded;
  }

  /** The enrich step's credential, or undefined when the source has none (its events are not enriched). */
  enrichmentCredential(source: SourceEntity): EnrichmentCredential | undefined {
    if (!source.enrichmentKeySealed) return undefined;
    return {
      apiKey: this.box.open<string>(source.enrichmentKeySealed),
      ...(source.enrichmentBaseUrl ? { baseUrl: source.enrichmentBaseUrl } : {}),
    };
  }

  enrichmentView(source: SourceEntity): SourceEnrichmentView {
    const declared = this.connectors.find(source.connector)?.enrichment ?? [];
    const baseUrl = source.enrichmentBaseUrl ?? declared.find((e) => e.baseUrl)?.baseUrl;
    return {
      configured: source.enrichmentKeySealed !== null,
      ...(baseUrl ? { baseUrl } : {}),
      events: declared.map((e) => e.event),
    };
  }

  view(source: SourceEntity, baseUrl: string): SourceView {
    return {
      id: source.id,
      name: source.name,
      connector: source.connector,
      url: `${baseUrl}/hooks/${source.id}`,
      verification: source.verification,
      effectiveVerification: this.connectors.effectiveVerification(
        this.connectors.get(source.connector),
        source.verification,
      ),
      secretsConfigured: this.box.open<string[]>(source.secretsSealed).length,
      enrichment: this.enrichmentView(source),
      enabled: source.enabled,
      ...(source.archivedAt ? { archivedAt: source.archivedAt } : {}),
      createdAt: source.createdAt,
      updatedAt: source.updatedAt,
    };
  }

  /**
   * The enrichment fields after this request: `null` removes the whole setting or one field, absent keeps it. A key
   * needs a connector that declares a fetch, and a base URL (the source's, or one the vendor documents); a base URL
   * is checked like a destination URL (DESIGN §5 safety), so a refused target is a 400 now, not a failed fetch later.
   */
  private async resolveEnrichment(
    connectorId: string,
    dto: SourceEnrichmentDto | null | undefined,
    current: { key: string | null; baseUrl: string | null },
  ): Promise<{ keySealed: string | null; baseUrl: string | null }> {
    if (dto === undefined) return { keySealed: current.key, baseUrl: current.baseUrl };
    if (dto === null) return { keySealed: null, baseUrl: null };
    const connector = this.connectors.get(connectorId);
    const keySealed =
      dto.apiKey === undefined ? current.key : dto.apiKey === null ? null : this.box.seal(dto.apiKey.trim());
    const baseUrl = dto.baseUrl === undefined ? current.baseUrl : (dto.baseUrl?.trim().replace(/\/+$/, '') ?? null);
    const invalid = (message: string): never => {
      throw new SourceException(SourceErrorCode.InvalidEnrichment, `enrichment: ${message}`);
    };
    if ((keySealed || baseUrl) && !connector.enrichment.length) {
      invalid(`${connector.name} declares no enrichment in connectors/${connector.id}/connector.yaml`);
    }
    if (dto.apiKey !== undefined && dto.apiKey !== null) {
      if (!dto.apiKey.trim()) invalid('apiKey is empty');
      // It travels in a request header: refused now rather than failing every fetch later. The value is not echoed.
      const problem = headerValueProblem(dto.apiKey.trim());
      if (problem) invalid(`apiKey ${problem}`);
    }
    if (baseUrl) {
      const problem = await checkTarget(baseUrl, this.config.outboundAllow);
      if (problem) invalid(`baseUrl: ${problem}`);
    }
    if (keySealed && !baseUrl) {
      const undocumented = connector.enrichment.filter((e) => !e.baseUrl).map((e) => e.event);
      if (undocumented.length) {
        invalid(
          `baseUrl is required: ${connector.name} documents no API base URL for ${undocumented.join(', ')}; give ` +
            'the URL of its API',
        );
      }
    }
    return { keySealed, baseUrl };
  }

  /** `given` are the secrets of this request, if any: only those are refused by a scheme that takes none. */
  private assertValid(
    connectorId: string,
    verification: Record<string, unknown>,
    secrets: string[],
    given?: string[],
  ): void {
    const connector = this.connectors.get(connectorId);
    const schemes = this.connectors.schemesOf(connector);
    if (verification.scheme !== undefined && !schemes.includes(verification.scheme as never)) {
      throw new SourceException(
        SourceErrorCode.InvalidVerification,
        `verification.scheme: ${connector.name} sources can use ${schemes.join(' or ')}`,
      );
    }
    const verifier = this.connectors.verifierFor(connector, verification);
    if (verifier.scheme === 'url-token' && given?.length) {
      // Accepting them would suggest deliveries are checked against them; nothing ever reads them (issue 9).
      throw new SourceException(
        SourceErrorCode.SecretsNotAccepted,
        `secrets: ${connector.name} sources use url-token: ${connector.name} does not sign its webhooks, so the ` +
          `unguessable source URL is the secret and there is nothing to check a secret against. Remove "secrets"; ` +
          `to restrict senders, set verification.ipAllow to a list of CIDRs`,
      );
    }
    const problems = verifier.validate(this.connectors.settingsFor(connector, verification), secrets);
    if (problems.length) {
      throw new SourceException(
        SourceErrorCode.InvalidVerification,
        `${connector.name} sources use ${verifier.scheme}: ${problems.join('; ')}`,
      );
    }
  }
}
