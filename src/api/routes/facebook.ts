import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemError, ProblemKind } from '../problem.js';
import { IdParamsSchema, problemResponses } from '../schemas/common.js';
import { ConnectionSchema } from '../schemas/destinations.js';
import {
  AdAccountListSchema,
  AdAccountParamsSchema,
  AudienceListSchema,
  AudiencePageQuerySchema,
  CallbackQuerySchema,
  SystemUserTokenSchema,
} from '../schemas/facebook.js';
import { connectedPage } from '../services/connected-page.js';
import { listAdAccounts, listAudiences } from '../services/facebook-assets.js';
import { completeLogin, connectSystemUserToken, loginUrl } from '../services/facebook-connection.js';

const tags = ['facebook'];

export const facebookRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;

  app.get(
    '/destinations/:id/facebook/connect',
    {
      schema: {
        tags,
        summary: 'Redirect (302) to Facebook login for this destination; the Location header is the dialog URL',
        params: IdParamsSchema,
        response: { 302: z.null(), ...problemResponses },
      },
    },
    async (request, reply) => reply.redirect(await loginUrl(deps, request.params.id), 302),
  );

  app.get(
    '/facebook/callback',
    {
      schema: {
        tags,
        summary: 'Where Facebook login returns (no API key: the signed state authenticates it)',
        security: [],
        querystring: CallbackQuerySchema,
        response: { 200: z.string(), ...problemResponses },
      },
    },
    async (request, reply) => {
      const { code, state, error } = request.query;
      if (error || !code) {
        throw new ProblemError(400, ProblemKind.validation, 'Facebook login was cancelled or declined; start again.', [
          { field: error ? 'query.error' : 'query.code', message: error ? 'login declined' : 'missing' },
        ]);
      }
      const { destination, connection } = await completeLogin(deps, { code, state });
      return reply
        .type('text/html; charset=utf-8')
        .send(connectedPage({ ...destination, expiresAt: connection.expiresAt }));
    },
  );

  app.put(
    '/destinations/:id/facebook/token',
    {
      schema: {
        tags,
        summary: "Connect with a system user's token instead of a login",
        params: IdParamsSchema,
        body: SystemUserTokenSchema,
        response: { 200: ConnectionSchema, ...problemResponses },
      },
    },
    async (request) => connectSystemUserToken(deps, request.params.id, request.body.token),
  );

  app.get(
    '/destinations/:id/facebook/ad-accounts',
    {
      schema: {
        tags,
        summary: "The connection's ad accounts",
        params: IdParamsSchema,
        response: { 200: AdAccountListSchema, ...problemResponses },
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
        response: { 200: AudienceListSchema, ...problemResponses },
      },
    },
    async (request) => listAudiences(deps, request.params.id, request.params.adAccountId, request.query),
  );
  return Promise.resolve();
};
