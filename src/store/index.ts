import { createAdAccountBlockRepository } from './ad-account-blocks.js';
import { createConsentRepository } from './consents.js';
import { createCredentialRepository } from './credentials.js';
import { createTokenCipher } from './crypto.js';
import type { Db } from './db.js';
import { createDestinationRepository } from './destinations.js';
import { createExportConfigRepository } from './export-configs.js';
import { createExportRunRepository } from './export-runs.js';
import { createOAuthStateRepository } from './oauth-states.js';
import { createRunMetricsRepository } from './run-metrics.js';
import { createSnapshotRepository } from './snapshots.js';
import { createSuppressionRepository } from './suppressions.js';
import { createUploadPlans } from './upload-plan.js';

export interface StoreOptions {
  /**
   * The 32-byte key for tokens at rest (config `encryptionKey`). Without it the store still works, but saving or
   * reading a token throws EncryptionKeyMissingError.
   */
  encryptionKey: Uint8Array | undefined;
  /** Version byte written with `encryptionKey`. @default 1 */
  keyVersion?: number;
  /** Older keys by version, to read tokens saved before a rotation (see credentials.reencryptAll). */
  previousKeys?: Readonly<Record<number, Uint8Array>>;
}

export type Store = ReturnType<typeof createStore>;

/** Every repository over one database. Run `migrate(db)` first. */
export function createStore(db: Db, options: StoreOptions) {
  const cipher = createTokenCipher({
    key: options.encryptionKey,
    keyVersion: options.keyVersion,
    previousKeys: options.previousKeys,
  });
  return {
    db,
    destinations: createDestinationRepository(db),
    credentials: createCredentialRepository(db, cipher),
    consents: createConsentRepository(db),
    exportConfigs: createExportConfigRepository(db),
    exportRuns: createExportRunRepository(db),
    snapshots: createSnapshotRepository(db),
    adAccountBlocks: createAdAccountBlockRepository(db),
    oauthStates: createOAuthStateRepository(db),
    runMetrics: createRunMetricsRepository(db),
    suppressions: createSuppressionRepository(db),
    /** Whether the database answers (the API's health probe). */
    ping: async (): Promise<void> => {
      await db.query('SELECT 1');
    },
    /** Needs the run staging tables in this same database (the default: profiles and store share one). */
    uploadPlans: createUploadPlans(db),
  };
}

export * from './errors.js';
export { DIFF_WORK_MEM } from './upload-plan.js';
export type { Page, PageRequest } from './paging.js';
export { InvalidCursorError } from './paging.js';
export { audienceNameOf, DestinationStatus, isReady } from './destinations.js';
export type {
  Destination,
  ReadyDestination,
  NewDestination,
  DestinationUpdate,
  DestinationListOptions,
  AccountDestination,
  DestinationRepository,
} from './destinations.js';
export { CredentialKind } from './credentials.js';
export type { CredentialInfo, SaveCredential, CredentialRepository } from './credentials.js';
export type { ConsentRecord, ConsentRepository } from './consents.js';
export { frozenExportConfig } from './export-configs.js';
export type {
  ExportConfig,
  ExportConfigInput,
  FrozenExportConfig,
  ExportSchedule,
  ExportConfigRepository,
} from './export-configs.js';
export { RunStatus } from './export-runs.js';
export type {
  ExportRun,
  NewExportRun,
  RunProgress,
  PageOutcome,
  RunFinish,
  RunListOptions,
  HealthCheck,
  FinishedRunStatus,
  ExportRunRepository,
  FreezeScope,
} from './export-runs.js';
export { SnapshotState, settledSql } from './snapshots.js';
export type {
  SnapshotKey,
  SnapshotRow,
  SnapshotEntry,
  SnapshotCounts,
  SnapshotRepository,
  SnapshotMeta,
  PageRecord,
} from './snapshots.js';
export type { OAuthStateRepository } from './oauth-states.js';
export type { RunMetricsRepository, LabelledCount, PageDurations } from './run-metrics.js';
export { encodeCells, decodeCells, SnapshotCodecError } from './snapshot-codec.js';
export type { AdAccountBlock } from './ad-account-blocks.js';
export { migrate } from './migrate.js';
export { openDb, type ArrayRows, type Db, type Queryable } from './db.js';
