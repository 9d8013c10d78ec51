// Vitest configuration: unit tests beside the code, integration suites under test/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // In CI every test is listed, so the log shows each suite ran on SQLite and on PostgreSQL.
    reporters: process.env.CI === 'true' ? ['verbose'] : ['default'],
  },
});
