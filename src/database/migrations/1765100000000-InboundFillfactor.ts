import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11: free room on each page of `inbound_event`, so that an event's later row versions land on its own page.
 * An event normalised after its ack is written three times: stored, pulled (its try counted) and marked normalised.
 * The pull changes no indexed column, so with room on the page it is a HOT update: no new index entries, and the WAL
 * carries only the changed bytes instead of the whole 1.3-1.4 KB row. At the default fillfactor (100) a page holds
 * five or six such rows and no room, and each pull wrote the row anew with an entry in every index. At 60 a page
 * holds three, with room for two more versions. The cost is disk: a page holds fewer events. Existing pages keep
 * their packing; new ones follow the setting.
 */
export class InboundFillfactor1765100000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbound_event SET (fillfactor = 60)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE inbound_event RESET (fillfactor)`);
  }
}
