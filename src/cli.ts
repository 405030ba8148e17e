import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.js';

interface Command {
  summary: string;
  run(args: string[], config: Config): Promise<number>;
}

const commands: Record<string, Command> = {
  start: {
    summary: 'run the Temporal dev server, worker, API and sandbox in one process tree',
    run: async (args, config) => (await import('./start/start-command.js')).runStartCommand(args, config),
  },
  api: {
    summary: 'serve the HTTP API (docs at /docs)',
    run: async (args, config) => (await import('./api/command.js')).runApiCommand(args, config),
  },
  worker: {
    summary: 'run a Temporal worker for exports',
    run: async (_args, config) => (await import('./worker.js')).runWorker(config),
  },
  sandbox: {
    summary: 'serve the local Graph API sandbox (--port N --config file --latency-ms 300-1500)',
    run: async (args) => (await import('./sandbox/command.js')).runSandboxCommand(args),
  },
  seed: {
    summary: 'write synthetic demo profiles and segments (or change a share of a segment)',
    run: async (args, config) => (await import('./sources/seed-command.js')).runSeedCommand(args, config),
  },
  demo: {
    summary: 'start everything, seed, and export a segment to the sandbox with live progress (--profiles N)',
    run: async (args, config) => (await import('./demo/demo-command.js')).runDemoCommand(args, config),
  },
  export: {
    summary: 'start an export through the API and follow it (--destination ID [--follow])',
    run: async (args) => (await import('./cli-client/export-command.js')).runExportCommand(args),
  },
  exports: {
    summary: 'list export runs or show one through the API (list [--destination ID] | get RUN_ID)',
    run: async (args) => (await import('./cli-client/export-command.js')).runExportsCommand(args),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'Usage: audience-export <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Configuration comes from the environment; see README.md.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, strict: false, allowPositionals: true });
  const name = positionals[0];
  if (!name || name === 'help' || argv.includes('--help') || argv.includes('-h')) {
    console.log(usage());
    return name && name !== 'help' && !(name in commands) ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`Unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  return command.run(argv.slice(argv.indexOf(name) + 1), config);
}

process.exitCode = await main(process.argv.slice(2));
