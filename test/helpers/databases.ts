import type { Database } from '../../src/store/db/database.js';
import { migrate } from '../../src/store/db/migrate.js';
import { openPglite } from '../../src/store/db/pglite.js';
import { freshPostgresSchema } from './postgres.js';

/** Both database implementations, fresh and migrated: for suites that every backend must pass. */
export const DATABASE_BACKENDS: [string, () => Promise<{ db: Database; cleanup(): Promise<void> }>][] = [
  [
    'pglite',
    async () => {
      const db = await openPglite();
      await migrate(db);
      return { db, cleanup: () => db.close() };
    },
  ],
  ['postgres', () => freshPostgresSchema()],
];
