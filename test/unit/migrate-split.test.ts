import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../src/store/db/migrate.js';

describe('splitStatements', () => {
  it('splits plain DDL at semicolons that end a line and drops comments', () => {
    const sql = '-- a table\nCREATE TABLE a (x int);\n\nCREATE INDEX a_x ON a (x);  \n';
    expect(splitStatements(sql)).toEqual(['CREATE TABLE a (x int)', 'CREATE INDEX a_x ON a (x)']);
  });

  it('keeps a dollar-quoted function body whole', () => {
    const sql = 'CREATE TABLE a (x int);\nCREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  PERFORM 1;\n  PERFORM 2;\nEND\n$$;\nCREATE INDEX i ON a (x);\n';
    const statements = splitStatements(sql);
    expect(statements).toHaveLength(3);
    expect(statements[1]).toBe('CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  PERFORM 1;\n  PERFORM 2;\nEND\n$$');
  });

  it('splits every migration the vault ships into whole statements', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const dir = new URL('../../src/store/db/migrations/', import.meta.url);
    for (const name of (await readdir(dir)).filter((f) => f.endsWith('.sql'))) {
      for (const statement of splitStatements(await readFile(new URL(name, dir), 'utf8'))) {
        expect(statement.split('$$').length % 2, `${name}: unbalanced $$`).toBe(1);
      }
    }
  });
});
