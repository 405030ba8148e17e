import createClient from 'openapi-fetch';
import { apiKey } from '../session';
import type { components, paths } from './openapi';

/** The API's own types, generated from its OpenAPI document: the console cannot drift from the routes. */
export type Schemas = components['schemas'];
export type Destination = Schemas['Destination'];
export type ExportRun = Schemas['ExportRun'];
export type ExportRunDetail = Schemas['ExportRunDetail'];
export type Schedule = Schemas['Schedule'];
export type Problem = Schemas['Problem'];
export type Preview =
  paths['/destinations/{id}/export-config/preview']['post']['responses'][200]['content']['application/json'];

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use({
  onRequest({ request }) {
    const key = apiKey();
    if (key) request.headers.set('authorization', `Bearer ${key}`);
    return request;
  },
});

/** A refused request: the problem's detail, and its field errors for the form to show beside each field. */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: readonly { field: string; message: string }[],
  ) {
    super(detail);
  }
}

/** Listeners told when the API refuses the key, so the console goes back to sign-in. */
const unauthorized = new Set<() => void>();
export const onUnauthorized = (fn: () => void) => {
  unauthorized.add(fn);
  return () => void unauthorized.delete(fn);
};

/** The data of an openapi-fetch result, or an ApiProblem for a refusal (and sign-in again on a 401). */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Exclude<T, undefined>> {
  const { data, error, response } = await request;
  if (response.ok) return data as Exclude<T, undefined>;
  if (response.status === 401) for (const fn of unauthorized) fn();
  const problem = (error ?? {}) as Partial<Problem>;
  throw new ApiProblem(
    response.status,
    problem.detail ?? `The API answered ${response.status} ${response.statusText}.`,
    problem.errors ?? [],
  );
}
