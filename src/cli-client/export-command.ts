import { parseArgs } from 'node:util';
import { ApiRequestError, ApiUnreachableError, createApiClient, type ApiClient } from './api-client.js';
import { connectionOf } from './connection.js';
import { ExitCode } from './exit-codes.js';
import { closedInTemporal, followViaApi, healthOfView, progressOfView, type ExportRunView } from './follow-export.js';
import { ProgressBar } from './progress-bar.js';
import { emptyProgress, n, runReportLines } from './progress-format.js';

const CONNECTION_OPTIONS = {
  'api-url': { type: 'string' },
  'api-key': { type: 'string' },
} as const;

const CONNECTION_HELP = `  --api-url URL     the API (default AUDIENCE_EXPORT_API_URL, else the \`start\` running on DATA_DIR,
                    else http://127.0.0.1:8080)
  --api-key KEY     an API key (default AUDIENCE_EXPORT_API_KEY, else the key that \`start\` generated)`;

export const EXPORT_USAGE = `Usage: audience-export export --destination ID [--follow] [--api-url URL] [--api-key KEY]

  --destination ID  the destination whose configured segments are exported (or whose running export is joined)
  --follow          draw its progress on stderr until it ends, then print the run report
${CONNECTION_HELP}

Exit codes: 0 done, 1 failed, cancelled or partial (or refused by the API), 2 usage, 3 API unreachable.`;

export const EXPORTS_USAGE = `Usage: audience-export exports list [--destination ID] [--limit N] [--json] [--api-url URL] [--api-key KEY]
       audience-export exports get RUN_ID [--json] [--api-url URL] [--api-key KEY]

  list              export runs, newest first
  get RUN_ID        one run with its live progress
  --destination ID  list only this destination's runs
  --limit N         list at most N runs
  --json            print the API's JSON instead of a table or report
${CONNECTION_HELP}`;

/** Maps an error to the documented exit code and prints what to do. */
function fail(err: unknown): number {
  if (err instanceof ApiUnreachableError) {
    console.error(err.message);
    return ExitCode.ApiUnreachable;
  }
  if (err instanceof ApiRequestError) {
    console.error(err.message);
    if (err.status >= 500) return ExitCode.ApiUnreachable;
    return err.status === 401 ? ExitCode.Usage : ExitCode.RunFailed;
  }
  console.error(err instanceof Error ? err.message : String(err));
  return ExitCode.RunFailed;
}

function usageError(err: unknown, usage: string): number {
  console.error(`${err instanceof Error ? err.message : String(err)}\n${usage}`);
  return ExitCode.Usage;
}

interface StartedExport {
  runId: string;
  workflowId: string;
  temporalRunId?: string;
  joined?: boolean;
  links?: Record<string, string>;
}

/** `audience-export export --destination ID [--follow]`. */
export async function runExportCommand(args: string[], dataDir: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { ...CONNECTION_OPTIONS, destination: { type: 'string' }, follow: { type: 'boolean', default: false } },
    });
  } catch (err) {
    return usageError(err, EXPORT_USAGE);
  }
  const { values } = parsed;
  if (typeof values.destination !== 'string' || parsed.positionals.length > 0) {
    console.error(EXPORT_USAGE);
    return ExitCode.Usage;
  }
  const api = createApiClient(await connectionOf(values, dataDir));
  try {
    const started = await api.request<StartedExport>(
      'POST',
      `/destinations/${encodeURIComponent(values.destination)}/exports`,
      {},
    );
    console.error(`${started.joined ? 'Joined the running' : 'Started'} export run ${started.runId}`);
    if (!values.follow) {
      console.log(JSON.stringify(started, null, 2));
      return ExitCode.Done;
    }
    const startedAt = Date.now();
    const outcome = await followViaApi(api, started.runId, new ProgressBar());
    console.log(
      runReportLines({
        status: outcome.status,
        segments: outcome.view.segments ?? [],
        mode: outcome.view.mode,
        ...(reasonWorthSaying(outcome.view) ? { modeReason: outcome.view.modeReason!.text } : {}),
        progress: outcome.progress ?? emptyProgress(),
        health: outcome.health,
        durationMs: Date.now() - startedAt,
        runId: started.runId,
        uiUrl: started.links?.temporalUi ?? outcome.view.links?.temporalUi,
        error: outcome.error,
        possiblyApplied: possiblyAppliedOf(outcome.view),
      }).join('\n'),
    );
    return outcome.status === 'completed' ? ExitCode.Done : ExitCode.RunFailed;
  } catch (err) {
    return fail(err);
  }
}

interface RunPage {
  items: ExportRunView[];
  nextCursor?: string | null;
}

/** `audience-export exports list|get`. */
export async function runExportsCommand(args: string[], dataDir: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...CONNECTION_OPTIONS,
        destination: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (err) {
    return usageError(err, EXPORTS_USAGE);
  }
  const { values, positionals } = parsed;
  const [sub, runId] = positionals;
  const api: ApiClient = createApiClient(await connectionOf(values, dataDir));
  try {
    if (sub === 'list' && positionals.length === 1) {
      const query = new URLSearchParams();
      if (typeof values.destination === 'string') query.set('destinationId', values.destination);
      if (typeof values.limit === 'string') query.set('limit', values.limit);
      const page = await api.request<RunPage>('GET', `/exports${query.size > 0 ? `?${query.toString()}` : ''}`);
      if (values.json) console.log(JSON.stringify(page, null, 2));
      else printRuns(page.items);
      return ExitCode.Done;
    }
    if (sub === 'get' && runId && positionals.length === 2) {
      const view = await api.request<ExportRunView>('GET', `/exports/${encodeURIComponent(runId)}`);
      if (values.json) console.log(JSON.stringify(view, null, 2));
      else printRun(view);
      const closed = closedInTemporal(view);
      if (closed) {
        console.error(`Temporal says run ${runId} is ${closed}, but its record still says running.`);
        return ExitCode.RunFailed;
      }
      return ExitCode.Done;
    }
  } catch (err) {
    return fail(err);
  }
  console.error(EXPORTS_USAGE);
  return ExitCode.Usage;
}

const possiblyAppliedOf = (view: ExportRunView) => ({
  sent: view.possiblySent ?? 0,
  removed: view.possiblyRemoved ?? 0,
});

function printRuns(runs: readonly ExportRunView[]): void {
  if (runs.length === 0) {
    console.log('No export runs.');
    return;
  }
  for (const r of runs) {
    const p = progressOfView(r);
    const counts = `segment ${n(p.rowsTotal)}, sent ${n(p.rowsSent)}, removed ${n(p.rowsRemoved)}, dropped ${n(p.rowsDropped)}`;
    console.log(`${r.runId}  ${r.startedAt ?? ''}  ${r.status.padEnd(9)}  ${(r.segments ?? []).join(',')}  ${counts}`);
  }
}

/** The configured mode needs no reason; any other (a mirror run that replaced, a refresh) is said. */
const reasonWorthSaying = (view: ExportRunView): boolean => !!view.modeReason && view.modeReason.code !== 'configured';

function printRun(view: ExportRunView): void {
  console.log(
    runReportLines({
      status: view.status,
      segments: view.segments ?? [],
      mode: view.mode,
      ...(reasonWorthSaying(view) ? { modeReason: view.modeReason!.text } : {}),
      progress: progressOfView(view),
      health: healthOfView(view),
      durationMs: 0,
      runId: view.runId,
      uiUrl: view.links?.temporalUi,
      error: view.error?.message,
      possiblyApplied: possiblyAppliedOf(view),
    })
      .filter((line) => !line.includes('time taken'))
      .join('\n'),
  );
}
