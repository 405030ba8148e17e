/**
 * A worker process for the fault tests: `audience-export worker` (src/worker.ts runWorker) with one difference,
 * the workflow bundle this test run built (WORKFLOW_BUNDLE_PATH). Bundling the sources at every restart would
 * cost seconds per kill and pick up half-saved edits in a shared checkout; activities still load from src.
 */
import { loadConfig } from '../../../src/config.js';
import { activityDeps, openResources } from '../../../src/resources.js';
import { connectClient, connectWorker } from '../../../src/temporal/connection.js';
import { createExportWorker } from '../../../src/worker.js';

const config = loadConfig();
const resources = await openResources(config);
const connection = await connectWorker(config.temporal);
const temporal = await connectClient(config.temporal);
const deps = {
  ...activityDeps(resources, config),
  temporalClient: temporal.client,
  taskQueue: config.temporal.taskQueue,
};
const worker = await createExportWorker({
  config,
  connection,
  deps,
  workflowBundlePath: process.env.WORKFLOW_BUNDLE_PATH,
});
console.error(`[worker] polling task queue '${config.temporal.taskQueue}' at ${config.temporal.address}`);
await worker.run();
await temporal.close();
await connection.close();
await resources.close();
