// docs/configuration.md documents every configuration key and its environment variable.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { configLeaves } from './schema.js';

describe('docs/configuration.md', () => {
  it('has a row for every key, with its environment variable', async () => {
    const doc = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    // Prettier pads table cells, so allow any run of spaces between them.
    const rowFor = (path: string, env: string): RegExp =>
      new RegExp(`\\|\\s*\`${path.replaceAll('.', '\\.')}\`\\s*\\|\\s*\`${env}\`\\s*\\|`);
    const missing = configLeaves
      .filter((leaf) => !rowFor(leaf.path, leaf.env).test(doc))
      .map((leaf) => leaf.path);
    expect(missing).toEqual([]);
  });
});
