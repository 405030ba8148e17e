import type { Client } from '@temporalio/client';
import type { GraphClient } from '../facebook/index.js';
import type { ProfileSource } from '../sources/profile-source.js';
import type { Store } from '../store/index.js';
import type { RowBuilderPool } from '../row-builder/pool.js';
import type { ExportTimings } from '../workflows/contracts.js';

/** What activities need from the outside world; tests and the worker build it from real parts. */
export interface ActivityDeps {
  store: Store;
  source: ProfileSource;
  graph: GraphClient;
  limits: {
    /** Refuse segments above this many profiles. */
    maxProfiles: number;
    /** Rows per page and upload call (at most 10,000). */
    pageSize: number;
  };
  /** Our Facebook app id, recorded on destinations; tokens of other apps are refused. */
  facebookAppId?: string;
  /**
   * A client on the worker's namespace and the task queue it polls: scheduled exports start the audience's export
   * (`startOrJoinExport`), the sweep and the reconciler ask Temporal whether a run still lives. Required, so a
   * worker cannot be built without them (src/resources.ts `activityDeps` assembles these for every worker).
   */
  temporalClient: Client;
  taskQueue: string;
  /** Timings the scheduled exports pass on (tests shorten health checks). */
  exportTimings?: ExportTimings;
  pageConcurrency?: number;
  /** The execution timeout of the exports it starts (EXPORT_TIMEOUT_MS); unset = the default. */
  exportTimeoutMs?: number;
  /** Builds large pages' rows on worker threads; without it, rows are built inline. */
  rowBuilder?: RowBuilderPool;
  /** Where `notify` sends events; no URL = notifications off. */
  webhook?: { url?: string; secret?: string };
}
