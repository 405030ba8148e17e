/** A small JSON client of our HTTP API for the CLI and the demo: API key header, problem+json errors. */

/** The API did not answer (refused, timed out, DNS): exit code 3. */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(
      `The API at ${url} is unreachable (${reason}): start it (audience-export start) or set AUDIENCE_EXPORT_API_URL.`,
    );
  }
}

/** The API answered with an error status; `detail` is its problem+json detail (never carries secrets). */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly detail: string,
    readonly fieldErrors: readonly { field: string; message: string }[] = [],
  ) {
    const fields = fieldErrors.map((e) => `\n  - ${e.field}: ${e.message}`).join('');
    super(`${method} ${path} answered ${status}: ${detail}${fields}`);
  }
}

export interface ApiClient {
  readonly baseUrl: string;
  request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

export interface ApiClientOptions {
  baseUrl: string;
  apiKey?: string;
  /** @default 30000 */
  timeoutMs?: number;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  return {
    baseUrl,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const url = `${baseUrl}${path}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: body !== undefined ? JSON.stringify(body) : undefined,
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code;
        throw new ApiUnreachableError(baseUrl, cause ?? (err instanceof Error ? err.message : String(err)));
      }
      const text = await res.text();
      const parsed = text ? (JSON.parse(text) as unknown) : undefined;
      if (!res.ok) {
        const problem = (parsed ?? {}) as {
          detail?: string;
          title?: string;
          errors?: { field: string; message: string }[];
        };
        throw new ApiRequestError(
          method,
          path,
          res.status,
          problem.detail ?? problem.title ?? res.statusText,
          problem.errors,
        );
      }
      return parsed as T;
    },
  };
}
