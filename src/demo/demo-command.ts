import { WorkflowNotFoundError } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { consoleLink } from '../start/console-link.js';
import { startLocalStack, type LocalStack } from '../start/local-stack.js';
import { ApiUnreachableError, createApiClient, type ApiClient } from '../cli-client/api-client.js';
import { ExitCode } from '../cli-client/exit-codes.js';
import { followWorkflow, type FollowedRun } from '../cli-client/follow-export.js';
import { ProgressBar } from '../cli-client/progress-bar.js';
import { emptyProgress, n, runReportLines } from '../cli-client/progress-format.js';
import type { Config } from '../config.js';
import { audienceKey } from '../temporal/start-export.js';
import { exportWorkflowId } from '../workflows/contracts.js';
import { ensureDemoProfiles } from './demo-data.js';
import { DEMO_SEGMENTS, prepareDemoDestination, type DestinationView } from './demo-destination.js';
import { runScheduledRefresh, scheduledRefreshLines } from './demo-schedule.js';

export const DEFAULT_DEMO_PROFILES = 100_000;
/** The demo is sized for a laptop and the embedded database; bigger runs belong in `start` + `seed`. */
const MAX_DEMO_PROFILES = 2_000_000;

export const DEMO_USAGE = `Usage: audience-export demo [--profiles N]

  --profiles N   demo profiles to seed and export: 1 to ${n(MAX_DEMO_PROFILES)} (default ${n(DEFAULT_DEMO_PROFILES)})
                 (through npm: npm run demo -- --profiles N)

Starts everything in one process (as \`start\` does), seeds the demo profiles, exports a segment to the sandbox
with a live progress bar, sets a daily schedule for the audience and triggers it once (a scheduled refresh),
prints the reports and stops.`;

export function parseDemoArgs(args: string[]): { profiles: number } | { error: string } {
  try {
    const { values } = parseArgs({ args, options: { profiles: { type: 'string' } } });
    const raw = (values.profiles ?? String(DEFAULT_DEMO_PROFILES)).replace(/[_,]/g, '');
    const profiles = Number(raw);
    if (!/^\d+$/.test(raw) || profiles < 1 || profiles > MAX_DEMO_PROFILES) {
      return { error: `--profiles must be a whole number from 1 to ${n(MAX_DEMO_PROFILES)}, got '${values.profiles}'` };
    }
    return { profiles };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

interface StartedRun {
  runId: string;
  workflowId: string;
  temporalRunId?: string;
}

/** Starts the export through the API's exports resource, as an operator would. */
function startDemoExport(api: ApiClient, destination: DestinationView): Promise<StartedRun> {
  return api.request<StartedRun>('POST', `/destinations/${destination.id}/exports`, {});
}

/**
 * An export left running by an interrupted demo would hold the audience (one export per audience) and wait out
 * its in-flight activity's timeout, up to 30 minutes, before this run could go on. The demo owns that audience,
 * so it ends the leftover; `start` and the API leave such runs to resume.
 */
async function terminateLeftover(stack: LocalStack, destination: DestinationView, log: (line: string) => void) {
  const workflowId = exportWorkflowId(
    destination.adAccountId,
    audienceKey({ destinationId: destination.id, audienceId: destination.audienceId ?? undefined }),
  );
  const handle = stack.client.workflow.getHandle(workflowId);
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return;
    throw err;
  }
  log('[demo] ending an export left running by an interrupted demo');
  await handle.terminate('left running by an interrupted demo; the next demo run starts afresh');
}

/**
 * `audience-export demo`: the whole product on this machine against the sandbox. Starts everything, seeds demo
 * profiles, sets up a destination over the HTTP API, runs a mirror export with a live progress bar, sets a daily
 * schedule and triggers it once (a scheduled mirror refresh), prints the reports and stops everything. A second
 * run refreshes the same audience and sends only changes.
 */
export async function runDemoCommand(args: string[], baseConfig: Config): Promise<number> {
  const parsed = parseDemoArgs(args);
  if ('error' in parsed) {
    console.error(`${parsed.error}\n${DEMO_USAGE}`);
    return ExitCode.Usage;
  }
  if (baseConfig.facebook.appId) {
    console.error(
      'The demo exports to the local sandbox, but FACEBOOK_APP_ID is set. Unset it for the demo, or use ' +
        '`audience-export start` and the API to export to real Facebook (see README).',
    );
    return ExitCode.Usage;
  }
  const log = (line: string) => console.error(line);
  const started = Date.now();
  // The demo always reads its own tables, whatever PROFILE_SOURCE says.
  const config: Config = { ...baseConfig, database: { ...baseConfig.database, profileSource: undefined } };
  let stack: LocalStack | undefined;
  const onSignal = () => {
    log('\n[demo] interrupted: stopping');
    void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    stack = await startLocalStack(config, {
      freeApiPort: true,
      // The demo's output is its progress and report; request logs only when LOG_LEVEL asks for them.
      logLevel: process.env.LOG_LEVEL ? config.logLevel : 'warn',
      prepareDb: async (db) => void (await ensureDemoProfiles(db, parsed.profiles, log)),
      log,
    });
    log(`[demo] everything up in ${((Date.now() - started) / 1000).toFixed(1)} s; API at ${stack.apiUrl}`);
    log(`[demo] console (while the demo runs): ${consoleLink(stack.config.api.publicUrl, stack.apiKey)}`);
    const api = createApiClient({ baseUrl: stack.apiUrl, apiKey: stack.apiKey });
    const destination = await prepareDemoDestination(api, stack.sandbox!.fixtures, log);
    const first = destination.audienceId === null;
    log(`[demo] ${first ? 'first export: a new audience' : `refreshing audience ${destination.audienceId} (mirror)`}`);

    await terminateLeftover(stack, destination, log);
    const runStarted = Date.now();
    const run = await startDemoExport(api, destination);
    const bar = new ProgressBar();
    // Followed through Temporal, which the demo has at hand: live waits and the result's health at once.
    const outcome: FollowedRun = await followWorkflow(stack.client, run.workflowId, bar);
    const report = runReportLines({
      status: outcome.status,
      segments: DEMO_SEGMENTS,
      progress: outcome.progress ?? emptyProgress(),
      health: outcome.health,
      durationMs: Date.now() - runStarted,
      runId: run.runId,
      uiUrl: stack.runUrl(run.workflowId, run.temporalRunId),
      error: outcome.error,
    });
    const after = await api.request<DestinationView>('GET', `/destinations/${destination.id}`);
    const scheduled =
      outcome.status === 'completed' ? await runScheduledRefresh(api, stack.client, destination.id) : undefined;
    console.log(
      [
        '',
        ...report,
        `  ${'audience'.padEnd(15)} ${after.audienceId ?? '(not created)'} in ${after.adAccountId} (sandbox)`,
        '',
        ...(scheduled ? [...scheduledRefreshLines(scheduled, stack.scheduleUrl(scheduled.scheduleId)), ''] : []),
        `Run it again to refresh the audience (mirror mode sends only changes). Total ${((Date.now() - started) / 1000).toFixed(1)} s.`,
        `To see it in the web console, run \`npm start\` and open ${consoleLink(baseConfig.api.publicUrl, stack.apiKey)}`,
      ].join('\n'),
    );
    return outcome.status === 'completed' && scheduled?.outcome.status === 'completed'
      ? ExitCode.Done
      : ExitCode.RunFailed;
  } catch (err) {
    if (err instanceof ApiUnreachableError) {
      console.error(`Demo failed: ${err.message}`);
      return ExitCode.ApiUnreachable;
    }
    console.error(`Demo failed: ${err instanceof Error ? err.message : String(err)}`);
    return ExitCode.RunFailed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stack?.stop();
  }
}
