// The workflow bundle's entry: every function exported here is a workflow type.
export { exportSegment } from './export-segment.js';
export { audienceHealth } from './audience-health.js';
export { announceRun } from './announce-run.js';
export { checkTokens } from './check-tokens.js';
export { scheduledExport } from './scheduled-export.js';
