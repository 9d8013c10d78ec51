#!/usr/bin/env node
// The installed `tessera` command: runs the compiled CLI.
import '../dist/cli/main.js';
