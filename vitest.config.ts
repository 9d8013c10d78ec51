// Vitest configuration: unit tests beside the code, integration suites under test/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    // Generous: some suites start real processes, which a loaded 2-core machine makes slow.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // In CI every test is listed, so the log shows each suite ran on SQLite and on PostgreSQL.
    reporters: process.env.CI === 'true' ? ['verbose'] : ['default'],
  },
});
