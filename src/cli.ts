#!/usr/bin/env node
/**
 * The `skiptrail` command: `replay` ingests log files and answers queries, `serve`
 * keeps an index fed live and answers over HTTP. docs/cli.md documents both.
 *
 * Exit status: 0 success, 1 runtime failure, 2 usage error.
 */

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { StartupError, UsageError } from './cli/flags.js';
import { REPLAY_HELP, replay } from './cli/replay.js';
import { SERVE_HELP, serve } from './cli/serve.js';
import { GATEWAY_HELP, gateway } from './cli/gateway.js';
import { PUBLISH_HELP, publish } from './cli/publish.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

const HELP = `Usage: skiptrail <command> [options]

Commands:
  replay <file...>   ingest log files, print the report and answer queries
  serve              keep an index fed live (files, UDP, NATS, stdin) and serve JSON over HTTP
  gateway            serve the same HTTP API from a cluster of partitioned shards on NATS
  publish            follow log files and publish each partition's views to NATS

Run 'skiptrail <command> --help' for a command's options.

Options:
  -h, --help         show this help
  -v, --version      show the version

Exit status: 0 success, 1 runtime failure, 2 usage error.
`;

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; help: string }> = {
  replay: { run: replay, help: REPLAY_HELP },
  serve: { run: serve, help: SERVE_HELP },
  gateway: { run: gateway, help: GATEWAY_HELP },
  publish: { run: publish, help: PUBLISH_HELP },
};

function version(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? args[0] : undefined;
    if (name === undefined) {
      process.stderr.write(HELP);
      return EXIT_USAGE;
    }
    process.stdout.write(topic !== undefined && COMMANDS[topic] !== undefined ? COMMANDS[topic].help : HELP);
    return EXIT_OK;
  }
  if (name === '-v' || name === '--version') {
    process.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`skiptrail: unknown command ${JSON.stringify(name)}\nTry 'skiptrail --help'.\n`);
    return EXIT_USAGE;
  }
  // --help wins over anything else on the line, even a mistake.
  const end = args.indexOf('--');
  if ((end < 0 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h')) {
    process.stdout.write(command.help);
    return EXIT_OK;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`skiptrail ${name}: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`skiptrail ${name}: ${error.message}\nTry 'skiptrail ${name} --help'.\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`skiptrail ${name}: ${(error as Error)?.message ?? String(error)}\n`);
    return EXIT_FAILURE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // serve leaves nothing running once closed; replay may have read stdin: do not wait on it.
    if (code !== EXIT_OK || process.argv[2] === 'serve' || process.argv[2] === 'gateway' || process.argv[2] === 'publish') setImmediate(() => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`skiptrail: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(EXIT_FAILURE);
  },
);
