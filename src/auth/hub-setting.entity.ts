import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Small key/value store for hub-wide state, e.g. the hash of the generated API key. */
@Entity('hub_setting')
export class HubSettingEntity {
  @PrimaryColumn('text')
  key!: string;

  @Column('text')
  value!: string;
}
