import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A console sign-in. Only the SHA-256 of the cookie's token is stored, so a database dump opens no session;
 * `keyHash` ties the session to the API key it was opened with, so changing HUB_API_KEY ends every session.
 */
@Entity('console_session')
export class ConsoleSessionEntity {
  @PrimaryColumn('text', { name: 'token_sha256' })
  tokenSha256!: string;

  @Column('text', { name: 'key_sha256' })
  keySha256!: string;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;
}
