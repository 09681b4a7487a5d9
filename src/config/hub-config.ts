import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  isFQDN,
  isIP,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateBy,
  validateSync,
} from 'class-validator';
import * as ipaddr from 'ipaddr.js';

/** A destination failing this long with nothing but exhausted deliveries is disabled (issue 9). */
export const DEFAULT_DESTINATION_DISABLE_AFTER_MS = 5 * 24 * 3600 * 1000;

/** Standard Webhooks retry schedule (DESIGN §5): immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const DEFAULT_RETRY_SCHEDULE = [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

/** Enrichment retries (issue 12): at once, 5 s, 30 s, 2 min, 10 min; then the event goes on without it. */
export const DEFAULT_ENRICHMENT_RETRY_SCHEDULE = [0, 5, 30, 120, 600];

export type HubRole = 'api' | 'worker' | 'all';

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 } as const;
const MAX_DISABLE_AFTER_MS = 365 * UNIT_MS.d;

/** `5d`, `36h`, `90m`, `30s`, `500ms`, or a bare number in `bareUnit`, in milliseconds. */
export function parseDuration(value: string, bareUnit: keyof typeof UNIT_MS): number {
  const match = DURATION.exec(value.trim());
  if (!match) throw new Error(`not a duration: ${value}`);
  return Math.round(Number(match[1]) * UNIT_MS[(match[2] as keyof typeof UNIT_MS | undefined) ?? bareUnit]);
}

const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

/** An IP address or a host name (`localhost` included): what `server.listen({ host })` accepts. */
const IsListenHost = () =>
  ValidateBy({
    name: 'isListenHost',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && (isIP(value) || isFQDN(value, { require_tld: false, allow_underscores: false })),
      defaultMessage: () => 'must be an IP address or a host name, e.g. 127.0.0.1 or 0.0.0.0',
    },
  });

/**
 * The whole environment, validated once at boot (STYLE habit 2). Every field is the raw variable;
 * `HubConfig` below is the parsed, typed shape the rest of the hub reads.
 */
class HubEnvironment {
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** Loopback by default, so a newcomer's hub is not reachable from the network until they say so. */
  @Transform(trimmed)
  @IsListenHost()
  HOST = '127.0.0.1';

  @Transform(trimmed)
  @Matches(/^postgres(ql)?:\/\/.+\/[^/?]+/, { message: 'must be a postgres:// URL that names a database' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/switchboard';

  @Transform(trimmed)
  @Matches(/^rediss?:\/\/.+/, { message: 'must be a redis:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @IsOptional()
  @IsString()
  @Matches(/^\S{16,}$/, { message: 'must be at least 16 characters with no spaces' })
  HUB_API_KEY?: string;

  @IsOptional()
  @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be 32 bytes, base64-encoded (44 characters)' })
  HUB_ENCRYPTION_KEY?: string;

  @IsOptional()
  @IsString()
  HUB_OUTBOUND_ALLOW = '';

  @IsOptional()
  @Matches(/^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/, { message: 'must be comma-separated seconds, e.g. 0,5,300' })
  HUB_RETRY_SCHEDULE?: string;

  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be 1-64 letters, digits, _ or -' })
  HUB_QUEUE_PREFIX = 'switchboard';

  @IsIn(['api', 'worker', 'all'])
  HUB_ROLE: HubRole = 'all';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  HUB_RECONCILE_INTERVAL = 15;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(300)
  HUB_DELIVERY_TIMEOUT = 15;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  HUB_DELIVERY_CONCURRENCY = 100;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  HUB_DESTINATION_CONCURRENCY = 4;

  /** Issue 11: how far a webhook destination's limit grows while its attempts stay fast (DestinationGate). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  HUB_DESTINATION_MAX_CONCURRENCY = 32;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(256)
  HUB_NORMALIZE_CONCURRENCY = 16;

  /** Enrichment (issue 12): the overall deadline of one vendor API fetch, in seconds. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(300)
  HUB_ENRICHMENT_TIMEOUT = 15;

  @IsOptional()
  @Matches(/^\s*\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*\s*$/, { message: 'must be comma-separated seconds, e.g. 0,5,30' })
  HUB_ENRICHMENT_RETRY_SCHEDULE?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  HUB_ENRICHMENT_CONCURRENCY = 16;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  HUB_ENRICHMENT_SOURCE_CONCURRENCY = 4;

  /** Largest fetched document stored with an event; a larger one is truncated and the cut recorded. */
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(16 * 1024 * 1024)
  HUB_ENRICHMENT_MAX_BYTES = 1024 * 1024;

  /** Raw payloads and delivery attempts older than this many days are purged (src/retention/). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  HUB_RETENTION_DAYS = 30;

  /**
   * Hours (`120`) or a duration (`5d`, `36h`, `90m`, `30s`); `0` turns auto-disable off. Hours when bare, since the
   * window is about days of failure and an hour is the smallest span ops would pick by hand.
   */
  @Transform(trimmed)
  @Matches(DURATION, { message: 'must be hours (e.g. 120) or a duration like 5d, 36h, 90m or 30s; 0 turns it off' })
  HUB_DESTINATION_DISABLE_AFTER = '5d';

  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' })
  HUB_PUBLIC_URL?: string;

  /** How long a console sign-in lasts (src/auth/session.service.ts); the API key itself never expires. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(720)
  HUB_SESSION_HOURS = 12;

  /** The built console (vite build console); the default is where `npm run build` puts it. */
  @IsOptional()
  @IsString()
  HUB_CONSOLE_DIR?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsOptional()
  @IsString()
  NODE_ENV?: string;
}

export interface HubConfig {
  port: number;
  /** The address the HTTP server binds. */
  host: string;
  databaseUrl: string;
  redisUrl: string;
  apiKey?: string;
  /** 32-byte key; undefined means "derive a development key and warn". */
  encryptionKey?: Buffer;
  outboundAllow: [ipaddr.IPv4 | ipaddr.IPv6, number][];
  retryScheduleSeconds: number[];
  queuePrefix: string;
  role: HubRole;
  reconcileIntervalSeconds: number;
  /** Hard deadline of one outbound attempt: connect, headers and the capped body. */
  deliveryTimeoutSeconds: number;
  /** Delivery attempts in flight per worker process (I/O-bound, so many). */
  deliveryConcurrency: number;
  /**
   * Attempts in flight per destination per worker process to start with, and what a slow or failing receiver keeps,
   * so slow receivers cannot take every slot.
   */
  destinationConcurrency: number;
  /** How far a webhook destination's limit grows while its attempts stay fast (at least destinationConcurrency). */
  destinationMaxConcurrency: number;
  /** Normalize jobs in flight per worker process (the mapping work itself runs in worker threads). */
  normalizeConcurrency: number;
  /** Deadline of one enrichment fetch. */
  enrichmentTimeoutSeconds: number;
  /** Wait before each enrichment try (the first is 0); its length is the number of tries. */
  enrichmentRetryScheduleSeconds: number[];
  /** Enrich jobs in flight per worker process. */
  enrichmentConcurrency: number;
  /** Enrichment fetches in flight per source in one worker process, so one slow vendor API cannot take every slot. */
  enrichmentSourceConcurrency: number;
  /** Largest stored enrichment document (bytes of JSON); larger ones are truncated. */
  enrichmentMaxBytes: number;
  /** Days raw payloads and delivery attempts are kept (src/retention/retention.service.ts). */
  retentionDays: number;
  /**
   * A destination whose deliveries were only exhausted for this long is disabled (destination-health.service.ts);
   * 0: never.
   */
  destinationDisableAfterMs: number;
  publicUrl?: string;
  /** Lifetime of a console session, from sign-in. */
  sessionTtlSeconds: number;
  /** Folder holding the built console's index.html and assets; undefined means `<project>/console/dist`. */
  consoleDir?: string;
  logLevel: string;
  production: boolean;
}

export class ConfigError extends Error {}

/** Parses and validates the environment. Throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  // An empty variable means "use the default", as it does in most shells and compose files.
  const raw = plainToInstance(HubEnvironment, stripEmpty(env), { exposeDefaultValues: true });
  const errors = validateSync(raw, { skipMissingProperties: false });
  const problems = errors.map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`);

  const outboundAllow: HubConfig['outboundAllow'] = [];
  for (const cidr of (raw.HUB_OUTBOUND_ALLOW ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    try {
      outboundAllow.push(cidr.includes('/') ? ipaddr.parseCIDR(cidr) : toHostCidr(cidr));
    } catch {
      problems.push(`HUB_OUTBOUND_ALLOW: "${cidr}" is not a CIDR (e.g. 127.0.0.0/8, ::1/128)`);
    }
  }
  if (DURATION.test(raw.HUB_DESTINATION_DISABLE_AFTER)) {
    const ms = parseDuration(raw.HUB_DESTINATION_DISABLE_AFTER, 'h');
    if (ms > MAX_DISABLE_AFTER_MS) problems.push('HUB_DESTINATION_DISABLE_AFTER: must be at most 365 days');
  }
  const retryScheduleSeconds = raw.HUB_RETRY_SCHEDULE
    ? raw.HUB_RETRY_SCHEDULE.split(',').map((s) => Number(s.trim()))
    : DEFAULT_RETRY_SCHEDULE;

  const enrichmentRetryScheduleSeconds = raw.HUB_ENRICHMENT_RETRY_SCHEDULE
    ? raw.HUB_ENRICHMENT_RETRY_SCHEDULE.split(',').map((s) => Number(s.trim()))
    : DEFAULT_ENRICHMENT_RETRY_SCHEDULE;

  if (raw.NODE_ENV === 'production' && !raw.HUB_ENCRYPTION_KEY) {
    problems.push('HUB_ENCRYPTION_KEY: required when NODE_ENV=production (openssl rand -base64 32)');
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);

  return {
    port: raw.PORT,
    host: raw.HOST,
    databaseUrl: raw.DATABASE_URL,
    redisUrl: raw.REDIS_URL,
    apiKey: raw.HUB_API_KEY,
    encryptionKey: raw.HUB_ENCRYPTION_KEY ? Buffer.from(raw.HUB_ENCRYPTION_KEY, 'base64') : undefined,
    outboundAllow,
    retryScheduleSeconds,
    queuePrefix: raw.HUB_QUEUE_PREFIX,
    role: raw.HUB_ROLE,
    reconcileIntervalSeconds: raw.HUB_RECONCILE_INTERVAL,
    deliveryTimeoutSeconds: raw.HUB_DELIVERY_TIMEOUT,
    deliveryConcurrency: raw.HUB_DELIVERY_CONCURRENCY,
    destinationConcurrency: raw.HUB_DESTINATION_CONCURRENCY,
    // Never below the base: setting only HUB_DESTINATION_CONCURRENCY higher must not be capped by the default here.
    destinationMaxConcurrency: Math.max(raw.HUB_DESTINATION_CONCURRENCY, raw.HUB_DESTINATION_MAX_CONCURRENCY),
    normalizeConcurrency: raw.HUB_NORMALIZE_CONCURRENCY,
    enrichmentTimeoutSeconds: raw.HUB_ENRICHMENT_TIMEOUT,
    enrichmentRetryScheduleSeconds,
    enrichmentConcurrency: raw.HUB_ENRICHMENT_CONCURRENCY,
    enrichmentSourceConcurrency: raw.HUB_ENRICHMENT_SOURCE_CONCURRENCY,
    enrichmentMaxBytes: raw.HUB_ENRICHMENT_MAX_BYTES,
    retentionDays: raw.HUB_RETENTION_DAYS,
    destinationDisableAfterMs: parseDuration(raw.HUB_DESTINATION_DISABLE_AFTER, 'h'),
    publicUrl: raw.HUB_PUBLIC_URL?.replace(/\/+$/, ''),
    sessionTtlSeconds: raw.HUB_SESSION_HOURS * 3600,
    consoleDir: raw.HUB_CONSOLE_DIR,
    logLevel: raw.LOG_LEVEL,
    production: raw.NODE_ENV === 'production',
  };
}

function stripEmpty(env: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
}

function toHostCidr(address: string): [ipaddr.IPv4 | ipaddr.IPv6, number] {
  const ip = ipaddr.parse(address);
  return [ip, ip.kind() === 'ipv4' ? 32 : 128];
}

/** Nest injection token for the parsed configuration. */
export const HUB_CONFIG = Symbol('HUB_CONFIG');
