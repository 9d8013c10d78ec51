#!/usr/bin/env node
// The installed `tessera` command: in a checkout, the launcher (bundle rebuilt when src/ changed); else the compiled CLI.
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

// A package built for installing ships dist/ without src/; a checkout must never run stale code.
const checkout = existsSync(new URL('../src/main.ts', import.meta.url));
await import(checkout ? '../scripts/tessera.js' : '../dist/main.js');
