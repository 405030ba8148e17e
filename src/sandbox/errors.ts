import { randomBytes } from 'node:crypto';

/** Graph error `type` values the sandbox answers with. */
export const GraphErrorType = {
  OAuth: 'OAuthException',
  GraphMethod: 'GraphMethodException',
} as const;
export type GraphErrorType = (typeof GraphErrorType)[keyof typeof GraphErrorType];

export interface GraphErrorBody {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    is_transient?: boolean;
    error_user_title?: string;
    error_user_msg?: string;
    fbtrace_id: string;
  };
}

/**
 * A refusal the sandbox answers in Facebook's error shape. Rules throw it; the server turns it into the HTTP
 * response. Messages never carry tokens or row values.
 */
export class GraphError extends Error {
  override readonly name = 'GraphError';
  constructor(
    readonly code: number,
    message: string,
    readonly options: {
      readonly subcode?: number;
      readonly type?: GraphErrorType;
      readonly status?: number;
      readonly isTransient?: boolean;
      readonly headers?: Readonly<Record<string, string>>;
    } = {},
  ) {
    super(message);
  }

  get status(): number {
    return this.options.status ?? 400;
  }

  toBody(): GraphErrorBody {
    return {
      error: {
        message: this.message,
        type: this.options.type ?? GraphErrorType.OAuth,
        code: this.code,
        ...(this.options.subcode !== undefined ? { error_subcode: this.options.subcode } : {}),
        is_transient: this.options.isTransient ?? false,
        fbtrace_id: newTraceId(),
      },
    };
  }
}

export function newTraceId(): string {
  return randomBytes(8).toString('base64url');
}

/** Shorthands for the errors several rules share. */
export const graphErrors = {
  invalidParameter: (detail: string, subcode?: number) =>
    new GraphError(100, `(#100) ${detail}`, subcode === undefined ? {} : { subcode }),
  unsupported: (method: string, id: string) =>
    new GraphError(
      100,
      `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      { subcode: 33, type: GraphErrorType.GraphMethod },
    ),
  unknownPath: (path: string) =>
    new GraphError(2500, `Unknown path components: /${path}`, { type: GraphErrorType.OAuth }),
  nonexistingField: (field: string, nodeType: string) =>
    new GraphError(100, `(#100) Tried accessing nonexisting field (${field}) on node type (${nodeType})`),
  missingAdsManagement: () =>
    new GraphError(
      294,
      '(#294) Managing advertisements requires the extended permission ads_management and an application that is in our allow list',
    ),
  missingAdsRead: () =>
    new GraphError(200, '(#200) Requires ads_management or ads_read permission to read this object'),
  replace: (subcode: number, detail: string) =>
    new GraphError(2650, `(#2650) Failed to update the custom audience: ${detail}`, { subcode }),
} as const;
