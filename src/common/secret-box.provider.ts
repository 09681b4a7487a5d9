import { Provider } from '@nestjs/common';
import type { Logger } from 'pino';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { ROOT_LOGGER } from './logger';
import { SecretBox } from './secret-box';

export const SECRET_BOX = Symbol('SECRET_BOX');

/** HUB_ENCRYPTION_KEY seals secrets at rest; without it (development only) a derived key is used, with a warning. */
export const secretBoxProvider: Provider = {
  provide: SECRET_BOX,
  inject: [HUB_CONFIG, ROOT_LOGGER],
  useFactory: (config: HubConfig, logger: Logger) => {
    if (config.encryptionKey) return new SecretBox(config.encryptionKey);
    logger.warn(
      'HUB_ENCRYPTION_KEY is not set: sealing secrets with a key derived from DATABASE_URL. Fine for development; ' +
        'set a 32-byte base64 key (openssl rand -base64 32) before real secrets go in.',
    );
    return new SecretBox(SecretBox.developmentKey(config.databaseUrl));
  },
};
