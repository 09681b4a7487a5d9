import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 10: the console signs in with the API key once and then holds an HttpOnly session cookie. The server keeps
 * the session (so sign-out ends it) but only the SHA-256 of its token, and the hash of the API key it was opened
 * with (a changed key ends it too).
 */
export class ConsoleSessions1765000000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE console_session (
        token_sha256 text PRIMARY KEY,
        key_sha256 text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX console_session_expires_at ON console_session (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE console_session`);
  }
}
