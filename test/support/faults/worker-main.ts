/**
 * A worker process for the fault tests: `audience-export worker` (src/worker.ts runWorker) with one difference,
 * the workflow bundle this test run built (WORKFLOW_BUNDLE_PATH). Bundling the sources at every restart would
 * cost seconds per kill and pick up half-saved edits in a shared checkout; activities still load from src.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../../src/config.js';
import { activityDeps, openResources } from '../../../src/resources.js';
import { createExportWorker } from '../../../src/worker.js';

const config = loadConfig();
const resources = await openResources(config);
const connection = await NativeConnection.connect({ address: config.temporal.address });
const clientConnection = await Connection.connect({ address: config.temporal.address });
const deps = {
  ...activityDeps(resources, config),
  temporalClient: new Client({ connection: clientConnection, namespace: config.temporal.namespace }),
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
await clientConnection.close();
await connection.close();
await resources.close();
