/**
 * The export workflow's queries and signals. A module of their own, so clients (API, CLI, tests) can use them
 * without importing the workflow's code.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ExportProgress } from './contracts.js';

/** The run's counters and phase, answered from workflow state. */
export const progressQuery = defineQuery<ExportProgress>('progress');

/**
 * Stops a run at once, aborting in-flight requests (consent withdrawn, destination deleted). A plain cancel
 * instead lets in-flight pages settle.
 */
export const abortExportSignal = defineSignal<[reason: string]>('abortExport');
