#!/usr/bin/env node
// STAGEDB_DEBUG=1 prints a stack trace with an error: map it to src/*.ts through the bundle's source maps.
// Only then: reading the maps costs start-up time every command would pay.
if (process.env.STAGEDB_DEBUG) process.setSourceMapsEnabled(true);
await import('../dist/cli-bundle/main.js');
