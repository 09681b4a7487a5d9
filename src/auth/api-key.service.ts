import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepo } from '../database/database.module';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { Repository } from 'typeorm';
import { sha256Hex } from '../common/ids';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { HubSettingEntity } from './hub-setting.entity';

const SETTING = 'api_key_sha256';

/**
 * The management API key: HUB_API_KEY when set; otherwise one generated on first boot, printed once,
 * and only its SHA-256 kept.
 */
@Injectable()
export class ApiKeyService implements OnModuleInit {
  private expectedHash!: Buffer;

  constructor(
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @InjectRepo(HubSettingEntity) private readonly settings: Repository<HubSettingEntity>,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.apiKey) {
      this.expectedHash = Buffer.from(sha256Hex(this.config.apiKey), 'hex');
      return;
    }
    const stored = await this.settings.findOneBy({ key: SETTING });
    if (stored) {
      this.expectedHash = Buffer.from(stored.value, 'hex');
      return;
    }
    const key = `sk_${randomBytes(24).toString('base64url')}`;
    const inserted: unknown[] = await this.settings.query(
      'INSERT INTO hub_setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key',
      [SETTING, sha256Hex(key)],
    );
    if (inserted.length) {
      // Printed once, on purpose: this is the only time the key exists in plain text.
      this.logger.warn(`Generated management API key (shown once, store it now): ${key}`);
      this.expectedHash = Buffer.from(sha256Hex(key), 'hex');
    } else {
      // Another process generated it first; use theirs.
      const winner = await this.settings.findOneByOrFail({ key: SETTING });
      this.expectedHash = Buffer.from(winner.value, 'hex');
    }
  }

  /** SHA-256 (hex) of the key in effect: console sessions remember it, so a changed key ends them. */
  get keySha256(): string {
    return this.expectedHash.toString('hex');
  }

  matches(presented: string): boolean {
    const hash = Buffer.from(sha256Hex(presented), 'hex');
    return timingSafeEqual(hash, this.expectedHash);
  }
}
