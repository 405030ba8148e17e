export * from './ad-account-id.js';
export * from './appsecret-proof.js';
export * from './classify-error.js';
export * from './errors.js';
export * from './graph-client.js';
export * from './operation-status.js';
export { allPages } from './account-calls.js';
export * from './responses.js';
export * from './usage.js';
