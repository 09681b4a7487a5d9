import { Global, Inject, Module, Provider } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource, ObjectLiteral, Repository } from 'typeorm';
import { ROOT_LOGGER } from '../common/logger';
import { HUB_CONFIG, HubConfig } from '../config/hub-config';
import { dataSourceOptions, ENTITIES, ensureDatabase, runMigrations } from './data-source';
import { HotPool } from './prepared';

const repositoryToken = (entity: { name: string }) => `Repository<${entity.name}>`;

/** Injects the TypeORM repository of an entity registered in ENTITIES. */
export const InjectRepo = (entity: { name: string }) => Inject(repositoryToken(entity));

/**
 * The hub creates its own database if missing and runs its migrations at boot. The DataSource is ours (not
 * @nestjs/typeorm's) so shutdown can close it last, after the workers have drained (see LifecycleService).
 */
const dataSourceProvider: Provider = {
  provide: DataSource,
  inject: [HUB_CONFIG, ROOT_LOGGER],
  useFactory: async (config: HubConfig, logger: Logger) => {
    if (await ensureDatabase(config.databaseUrl)) logger.info('created database');
    const dataSource = await new DataSource(dataSourceOptions(config.databaseUrl)).initialize();
    const applied = await runMigrations(dataSource);
    if (applied.length) logger.info({ migrations: applied }, 'applied migrations');
    return dataSource;
  },
};

const repositoryProviders: Provider[] = ENTITIES.map((entity) => ({
  provide: repositoryToken(entity),
  inject: [DataSource],
  useFactory: (dataSource: DataSource): Repository<ObjectLiteral> => dataSource.getRepository(entity),
}));

@Global()
@Module({
  providers: [dataSourceProvider, HotPool, ...repositoryProviders],
  exports: [dataSourceProvider, HotPool, ...repositoryProviders],
})
export class DatabaseModule {}
