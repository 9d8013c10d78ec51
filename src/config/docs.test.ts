// docs/configuration.md documents every configuration key and its environment variable.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configLeaves } from './schema.js';

describe('docs/configuration.md', () => {
  it('has a row for every key, with its environment variable', async () => {
    const doc = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const missing = configLeaves
      .filter((leaf) => !doc.includes(`| \`${leaf.path}\` | \`${leaf.env}\` |`))
      .map((leaf) => leaf.path);
    expect(missing).toEqual([]);
  });
});
