#!/usr/bin/env node
/**
 * The `hvci` command as installed (the bundle's entry). `hvci --version` is answered here,
 * before the CLI is loaded: commander alone pulls in node:child_process and its streams, most
 * of what a version check would otherwise cost (scripts and CI run it often).
 */
import { TOOL_VERSION } from '../version.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) process.stdout.write(`${TOOL_VERSION}\n`);
else await import('./main.js');
