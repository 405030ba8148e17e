import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.js';

interface Command {
  summary: string;
  /** The command's own usage with its options, for `audience-export <command> --help`. */
  usage(): Promise<string>;
  run(args: string[], config: Config): Promise<number>;
}

/** Usage of the commands that take no options: they are configured by the environment alone. */
const environmentOnly = (name: string, what: string) => () =>
  Promise.resolve(`Usage: audience-export ${name}

${what}

No options: configuration comes from the environment (README.md, "Configuration").`);

const commands: Record<string, Command> = {
  start: {
    summary: 'run the Temporal dev server, worker, API and sandbox in one process tree',
    usage: environmentOnly(
      'start',
      'Runs a Temporal dev server (unless TEMPORAL_ADDRESS is set), the Graph API sandbox (unless FACEBOOK_APP_ID\n' +
        'is set), embedded PostgreSQL (unless DATABASE_URL is set), a worker and the API in one process tree.',
    ),
    run: async (args, config) => (await import('./start/start-command.js')).runStartCommand(args, config),
  },
  api: {
    summary: 'serve the HTTP API (docs at /docs)',
    usage: environmentOnly('api', 'Serves the HTTP API on API_HOST:API_PORT (OpenAPI docs at /docs).'),
    run: async (args, config) => (await import('./api/command.js')).runApiCommand(args, config),
  },
  worker: {
    summary: 'run a Temporal worker for exports',
    usage: environmentOnly('worker', 'Runs a Temporal worker for exports on TEMPORAL_TASK_QUEUE until interrupted.'),
    run: async (_args, config) => (await import('./worker.js')).runWorker(config),
  },
  cluster: {
    summary:
      'stand up the production topology here: Temporal Server on PostgreSQL, the API, two workers (up|down|status)',
    usage: async () => (await import('./cluster/cluster-command.js')).CLUSTER_USAGE,
    run: async (args, config) => (await import('./cluster/cluster-command.js')).runClusterCommand(args, config),
  },
  sandbox: {
    summary: 'serve the local Graph API sandbox (--port N --config file --latency-ms 300-1500)',
    usage: async () => (await import('./sandbox/command.js')).SANDBOX_USAGE,
    run: async (args, config) => (await import('./sandbox/command.js')).runSandboxCommand(args, config.sandbox.port),
  },
  seed: {
    summary: 'write synthetic demo profiles and segments (or change a share of a segment)',
    usage: async () => (await import('./demo/seed-command.js')).SEED_USAGE,
    run: async (args, config) => (await import('./demo/seed-command.js')).runSeedCommand(args, config),
  },
  'reencrypt-tokens': {
    summary: 'seal every stored Facebook token with the current ENCRYPTION_KEY (after a key rotation)',
    usage: async () => (await import('./store/reencrypt-command.js')).REENCRYPT_USAGE,
    run: async (args, config) => (await import('./store/reencrypt-command.js')).runReencryptCommand(args, config),
  },
  demo: {
    summary: 'start everything, seed, and export a segment to the sandbox with live progress (--profiles N)',
    usage: async () => (await import('./demo/demo-command.js')).DEMO_USAGE,
    run: async (args, config) => (await import('./demo/demo-command.js')).runDemoCommand(args, config),
  },
  export: {
    summary: 'start an export through the API and follow it (--destination ID [--follow])',
    usage: async () => (await import('./cli-client/export-command.js')).EXPORT_USAGE,
    run: async (args, config) =>
      (await import('./cli-client/export-command.js')).runExportCommand(args, config.database.dataDir),
  },
  exports: {
    summary: 'list export runs or show one through the API (list [--destination ID] | get RUN_ID)',
    usage: async () => (await import('./cli-client/export-command.js')).EXPORTS_USAGE,
    run: async (args, config) =>
      (await import('./cli-client/export-command.js')).runExportsCommand(args, config.database.dataDir),
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
    "Run 'audience-export <command> --help' for a command's options. Configuration comes from the environment;",
    'see README.md.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, strict: false, allowPositionals: true });
  const name = positionals[0];
  const help = argv.includes('--help') || argv.includes('-h');
  // `help seed` and `seed --help` alike; before the configuration is read, so help works in any environment.
  const helpFor = name === 'help' ? positionals[1] : help ? name : undefined;
  if (helpFor !== undefined && Object.hasOwn(commands, helpFor)) {
    console.log(await commands[helpFor]!.usage());
    return 0;
  }
  if (!name || name === 'help' || help) {
    console.log(usage());
    return name && name !== 'help' && !Object.hasOwn(commands, name) ? 2 : 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
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
