/**
 * A row-builder thread: builds the canonical rows of one page at a time for `RowBuilderPool`. Its caches of
 * low-cardinality cells are its own and stay warm across the pages it builds.
 */
import { parentPort } from 'node:worker_threads';
import { buildRows } from '../domain/canonical-row.js';
import { fromThreadTask, type ThreadReply, type ThreadTask } from './messages.js';

const port = parentPort;
if (port === null) throw new Error('thread.ts runs only as a worker thread of RowBuilderPool');

port.on('message', (task: ThreadTask) => {
  let reply: ThreadReply;
  try {
    reply = { id: task.id, builtJson: JSON.stringify(buildRows(fromThreadTask(task), task.mapping, task.options)) };
  } catch (err) {
    // Only the error's name crosses back: a message could quote profile data.
    reply = { id: task.id, failure: err instanceof Error ? err.name : typeof err };
  }
  port.postMessage(reply);
});
