import { GraphError, graphErrors } from '../errors.js';

const VERSION = /^v(\d+)\.(\d+)$/;

/** `v25.0` -> 25.0 as a comparable number, or null when it is not a version segment. */
export function parseVersion(segment: string | undefined): number | null {
  const m = segment === undefined ? null : VERSION.exec(segment);
  return m ? Number(m[1]) + Number(m[2]) / 1000 : null;
}

/**
 * Every call must name a version (an unversioned call would reach an app default, which our client must never
 * rely on); expired versions fail with 2635 as Meta does after expiry.
 */
export function checkVersion(segment: string | undefined, minVersion: string, maxVersion: string): string {
  const v = parseVersion(segment);
  if (v === null || segment === undefined) {
    throw graphErrors.invalidParameter(
      'Calls to the sandbox must start with an explicit Graph API version, e.g. /v25.0/...; unversioned calls are refused',
    );
  }
  if (v < (parseVersion(minVersion) ?? 0)) {
    throw new GraphError(
      2635,
      `(#2635) You are calling a deprecated version of the Ads API. Please update to the latest version: ${maxVersion}.`,
    );
  }
  if (v > (parseVersion(maxVersion) ?? Infinity)) {
    throw graphErrors.invalidParameter(`Unknown Graph API version ${segment}; the newest is ${maxVersion}`);
  }
  return segment;
}
