import type { ApiClient } from '../cli-client/api-client.js';
import type { SandboxFixtures } from '../sandbox/fixtures.js';
import { DEMO_MAPPING } from './demo-profiles.js';

export const DEMO_DESTINATION_NAME = 'audience-export demo';
export const DEMO_AUDIENCE_NAME = 'audience-export demo: all profiles';
export const DEMO_SEGMENTS = ['all'];

/** Email as the key identifier, and every attribute the demo profiles carry mapped. */
export const DEMO_EXPORT_CONFIG = {
  keyIdentifier: 'EMAIL',
  mapping: DEMO_MAPPING,
  segments: DEMO_SEGMENTS,
  mode: 'mirror',
  defaultCountry: 'US',
} as const;

export interface DestinationView {
  id: string;
  displayName: string;
  adAccountId: string;
  audienceId: string | null;
  newAudienceName: string | null;
  consent?: { givenBy: string } | null;
}

interface DestinationPage {
  items: DestinationView[];
  nextCursor: string | null;
}

async function findByName(api: ApiClient, name: string): Promise<DestinationView | undefined> {
  let cursor: string | null = null;
  do {
    const query: string = `/destinations?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: DestinationPage = await api.request<DestinationPage>('GET', query);
    const found = page.items.find((d) => d.displayName === name);
    if (found) return found;
    cursor = page.nextCursor;
  } while (cursor);
  return undefined;
}

/**
 * Makes the demo destination ready over the HTTP API, as an operator would: create it (or reuse it by name),
 * give it the sandbox's system-user token, record consent once, and configure the export.
 */
export async function prepareDemoDestination(
  api: ApiClient,
  fixtures: SandboxFixtures,
  log: (line: string) => void,
): Promise<DestinationView> {
  let destination = await findByName(api, DEMO_DESTINATION_NAME);
  if (destination) {
    log(`[demo] reusing destination ${destination.id}`);
  } else {
    destination = await api.request<DestinationView>('POST', '/destinations', {
      displayName: DEMO_DESTINATION_NAME,
      adAccountId: fixtures.adAccountId,
      newAudienceName: DEMO_AUDIENCE_NAME,
    });
    log(`[demo] created destination ${destination.id} on ${fixtures.adAccountId}`);
  }
  const path = `/destinations/${destination.id}`;
  await api.request('PUT', `${path}/facebook/token`, { token: fixtures.systemUserToken });
  const detail = await api.request<DestinationView>('GET', path);
  if (!detail.consent) {
    const statements = await api.request<{ current: string }>('GET', '/consent-statements');
    await api.request('POST', `${path}/consent`, {
      givenBy: 'demo@audience-export.local',
      statementVersion: statements.current,
    });
  }
  await api.request('PUT', `${path}/export-config`, DEMO_EXPORT_CONFIG);
  return api.request<DestinationView>('GET', path);
}
