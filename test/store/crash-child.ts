// Child process for the crash tests: opens a store, writes, then waits to be killed.
//
// argv: <database options as JSON> <mode>
//   migrate  open the store (running migrations), print READY, exit 0
//   mid      in one transaction: a tenant and ROWS principals; print MID halfway, then wait
//   done     the same transaction, committed; print DONE, then wait
import { randomUUID } from 'node:crypto';
import { openStore, type DatabaseOptions } from '../../src/store/index.js';
import { TEST_MASTER_KEY } from '../fixtures/keys.js';
import { CRASH_TENANT, ROWS } from './crash-constants.js';

const forever = (): Promise<never> => new Promise<never>(() => setInterval(() => undefined, 1000));

async function main(): Promise<void> {
  const [optionsJson, mode] = process.argv.slice(2);
  if (optionsJson === undefined || mode === undefined) throw new Error('usage: <options> <mode>');
  const database = JSON.parse(optionsJson) as DatabaseOptions;
  const { store } = await openStore({ database, masterKey: TEST_MASTER_KEY });
  if (mode === 'migrate') {
    await store.close();
    process.stdout.write('READY\n');
    return;
  }
  await store.transaction(async (tx) => {
    await tx.tenants.create({
      id: CRASH_TENANT,
      displayName: 'crash',
      isDefault: false,
      createdAt: 1,
    });
    for (let i = 0; i < ROWS; i++) {
      await tx.principals.create({
        objectId: randomUUID(),
        appId: randomUUID(),
        tenantId: CRASH_TENANT,
        displayName: `p${i}`,
        type: 'Application',
        alternativeNames: [],
        enabled: true,
        createdAt: 1,
        updatedAt: 1,
      });
      if (mode === 'mid' && i === ROWS / 2) {
        process.stdout.write('MID\n');
        await forever();
      }
    }
  });
  process.stdout.write('DONE\n');
  await forever();
}

await main();
