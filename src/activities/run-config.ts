import type { ExportRun, FrozenExportConfig, Store } from '../store/index.js';

/**
 * The export config the run froze when it started, so every step of one run uses the same mapping, segments and
 * options. A run recorded before configs were frozen (in flight across an upgrade) reads the current one.
 */
export async function runExportConfig(store: Store, run: ExportRun): Promise<FrozenExportConfig> {
  return run.exportConfig ?? (await store.exportConfigs.get(run.destinationId));
}
