import type { Database } from '../../src/store/db/database.js';
import { freshPostgresSchema } from './postgres.js';

/** Every database backend, fresh and migrated: for suites that every backend must pass. */
export const DATABASE_BACKENDS: [string, () => Promise<{ db: Database; cleanup(): Promise<void> }>][] = [
  ['postgres', () => freshPostgresSchema()],
];
