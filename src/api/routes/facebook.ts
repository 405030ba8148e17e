import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { toProblemError } from '../error-mapping.js';
import { ProblemError, ProblemKind } from '../problem.js';
import { destinationProblems, IdParamsSchema } from '../schemas/common.js';
import { ConnectionSchema } from '../schemas/destinations.js';
import {
  AdAccountListSchema,
  AdAccountParamsSchema,
  AudienceListSchema,
  AudiencePageQuerySchema,
  CallbackQuerySchema,
  ConnectQuerySchema,
  LoginDialogSchema,
  SystemUserTokenSchema,
} from '../schemas/facebook.js';
import { connectedPage, loginFailedPage } from '../services/callback-pages.js';
import { listAdAccounts, listAudiences } from '../services/facebook-assets.js';
import { completeLogin, connectSystemUserToken, loginUrl, returnToOf } from '../services/facebook-connection.js';
import { CALLBACK_PAGE_HELMET, routeRateLimits } from '../security.js';

const tags = ['facebook'];
const HTML = 'text/html; charset=utf-8';
const notConnected = 'Facebook is not connected for this destination, or Facebook rejected its token';

export const facebookRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;

  app.get(
    '/destinations/:id/facebook/connect',
    {
      schema: {
        tags,
        summary: "Start Facebook login for this destination: redirects (302) to Facebook's dialog",
        description:
          'The dialog asks for ads_management and ads_read; its callback is PUBLIC_URL/facebook/callback. With ' +
          '`redirect=false` the dialog URL comes back as JSON instead. A destination may be a draft: connect first, ' +
          'then choose the ad account and audience from what the connection sees.',
        params: IdParamsSchema,
        querystring: ConnectQuerySchema,
        response: {
          200: LoginDialogSchema.describe('The dialog URL (with `redirect=false`)'),
          302: z.null().describe("Redirect to Facebook's login dialog (the Location header)"),
          ...destinationProblems({ 503: 'FACEBOOK_APP_ID, FACEBOOK_APP_SECRET or ENCRYPTION_KEY is not set' }),
        },
      },
    },
    async (request, reply) => {
      const { returnTo, redirect } = request.query;
      const dialog = await loginUrl(deps, request.params.id, returnTo ? { returnTo } : {});
      return redirect === 'false' ? dialog : reply.redirect(dialog.dialogUrl, 302);
    },
  );

  app.get(
    '/facebook/callback',
    {
      schema: {
        tags,
        summary: 'Where Facebook login returns (no API key: the signed state authenticates it)',
        description:
          'Opened by the browser, so every answer is an HTML page: connected, or why not and what to do. A login ' +
          'started from the console goes back to it (303).',
        security: [],
        querystring: CallbackQuerySchema,
        response: {
          200: z.string().describe('HTML: Facebook is connected'),
          303: z.null().describe('Connected: back to the console page the login started from'),
          400: z.string().describe('HTML: declined, or a state that is forged, expired or already used'),
          404: z.string().describe('HTML: the destination was deleted meanwhile'),
          409: z.string().describe('HTML: Facebook refused the token (e.g. ads_management not granted)'),
          429: z.string().describe('HTML: too many callbacks from this address (API_CALLBACKS_PER_MINUTE)'),
          502: z.string().describe('HTML: Facebook did not answer'),
        },
      },
      helmet: CALLBACK_PAGE_HELMET,
      config: { rateLimit: routeRateLimits(deps.config).callback },
      errorHandler: (error, request, reply) => {
        sendLoginFailed(error, request, reply);
      },
    },
    async (request, reply) => {
      const { code, state, error } = request.query;
      if (error || !code) {
        throw new ProblemError(400, ProblemKind.validation, 'Facebook login was cancelled or declined; start again.', [
          { field: error ? 'query.error' : 'query.code', message: error ? 'login declined' : 'missing' },
        ]);
      }
      const { destination, connection, returnTo } = await completeLogin(deps, { code, state });
      if (returnTo) return reply.redirect(`${deps.config.api.publicUrl}${returnTo}`, 303);
      return reply.type(HTML).send(connectedPage({ ...destination, expiresAt: connection.expiresAt }));
    },
  );

  /** Every failure of the callback as a page a person can act on, with a way back to the console when known. */
  function sendLoginFailed(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
    const query = request.query as { state?: unknown } | undefined;
    const returnTo = returnToOf(deps, typeof query?.state === 'string' ? query.state : undefined);
    const mapped = toProblemError(error);
    if (!mapped && (error as FastifyError).validation) {
      void reply
        .code(400)
        .type(HTML)
        .send(loginFailedPage({ detail: 'This is not a Facebook login callback this service issued.', returnTo }));
      return;
    }
    if (!mapped) request.log.error({ err: error }, 'Facebook callback failed');
    const status = mapped?.status ?? 500;
    const detail = mapped?.detail ?? `Something went wrong on our side. Quote request id ${request.id}.`;
    void reply.code(status).type(HTML).send(loginFailedPage({ detail, returnTo }));
  }

  app.put(
    '/destinations/:id/facebook/token',
    {
      schema: {
        tags,
        summary: "Connect with a system user's token instead of a login",
        description:
          'The token is checked with Facebook (valid, for our app, with ads_management), then stored encrypted.',
        params: IdParamsSchema,
        body: SystemUserTokenSchema,
        response: {
          200: ConnectionSchema.describe('Connected: the connection (never the token)'),
          ...destinationProblems({ 400: 'Not a token Facebook accepts, or it lacks ads_management', 502: true }),
        },
      },
    },
    async (request) => connectSystemUserToken(deps, request.params.id, request.body.token),
  );

  app.get(
    '/destinations/:id/facebook/ad-accounts',
    {
      schema: {
        tags,
        summary: "The ad accounts the destination's connection can manage",
        params: IdParamsSchema,
        response: {
          200: AdAccountListSchema.describe('Ad accounts, each with whether it accepted the Custom Audience terms'),
          ...destinationProblems({ 409: notConnected, 502: true }),
        },
      },
    },
    async (request) => listAdAccounts(deps, request.params.id),
  );

  app.get(
    '/destinations/:id/facebook/ad-accounts/:adAccountId/audiences',
    {
      schema: {
        tags,
        summary: "An ad account's customer-list audiences, and whether it accepted the Custom Audience terms",
        params: AdAccountParamsSchema,
        querystring: AudiencePageQuerySchema,
        response: {
          200: AudienceListSchema.describe('One page of audiences; those another destination uses are marked'),
          ...destinationProblems({
            409: notConnected,
            422: 'Facebook refused: e.g. no access to this ad account',
            502: true,
          }),
        },
      },
    },
    async (request) => listAudiences(deps, request.params.id, request.params.adAccountId, request.query),
  );
  return Promise.resolve();
};
