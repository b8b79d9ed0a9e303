#!/usr/bin/env node
// pp-secrets-provider: builds a JavaScript provider into a WebAssembly
// component for pp-secrets (see ../README.md).

import { build, version, writeWit, WORLD } from '../src/build.js';

const USAGE = `usage:
  pp-secrets-provider build PROVIDER.js -o OUTPUT.wasm [--keep-work-dir]
      Builds the provider module (whose default export is the provider
      class) into a component of processpype:secrets@0.2.0.
  pp-secrets-provider wit DIR
      Writes the WIT it builds against (world ${WORLD}) into DIR.
  pp-secrets-provider --version`;

function fail(message) {
  process.stderr.write(`pp-secrets-provider: ${message}\n`);
  process.exit(2);
}

async function main(args) {
  const [command, ...rest] = args;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`${await version()}\n`);
    return;
  }
  if (command === 'wit') {
    if (rest.length !== 1) {
      fail(`wit takes one directory\n${USAGE}`);
    }
    await writeWit(rest[0]);
    return;
  }
  if (command !== 'build') {
    fail(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
  let input;
  let output;
  let keepWorkDir = false;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '-o' || arg === '--output') {
      output = rest[++i];
      if (output === undefined) {
        fail(`${arg} needs a file`);
      }
    } else if (arg === '--keep-work-dir') {
      keepWorkDir = true;
    } else if (arg.startsWith('-')) {
      fail(`unknown option ${arg}\n${USAGE}`);
    } else if (input === undefined) {
      input = arg;
    } else {
      fail(`one provider module at a time (got ${input} and ${arg})`);
    }
  }
  if (input === undefined || output === undefined) {
    fail(`build needs a provider module and -o OUTPUT.wasm\n${USAGE}`);
  }
  const started = Date.now();
  const log = (line) => process.stderr.write(`pp-secrets-provider: ${line}\n`);
  const built = await build({ input, output, keepWorkDir, log });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const megabytes = (built.bytes / (1024 * 1024)).toFixed(1);
  log(`built ${built.output} (${megabytes} MiB) in ${seconds} s`);
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`pp-secrets-provider: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
