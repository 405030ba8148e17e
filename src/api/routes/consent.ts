import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CONSENT_STATEMENTS, consentStatement, CURRENT_CONSENT_STATEMENT } from '../../domain/consent-statements.js';
import { ProblemError, ProblemKind } from '../problem.js';
import { destinationProblems, IdParamsSchema, problems } from '../schemas/common.js';
import {
  ConsentInputSchema,
  ConsentSchema,
  ConsentStatementSchema,
  StatementVersionParamsSchema,
  WithdrawalSchema,
  WithdrawConsentQuerySchema,
} from '../schemas/export-config.js';
import { consentRecordView, giveConsent, withdrawConsent } from '../services/consent.js';
import { asCaller } from '../security.js';

const tags = ['consent'];

/** Consent routes are never public, so the auth hook has named the key. */
const keyNameOf = (request: { apiKey?: { name: string } }): string => request.apiKey?.name ?? 'unknown';

export const consentRoutes: FastifyPluginAsyncZod = (app) => {
  const { deps } = app;

  app.get(
    '/consent-statements',
    {
      schema: {
        tags,
        summary: 'The data privacy and compliance statement: the current version and every earlier one',
        response: {
          200: z
            .object({ current: z.string(), items: z.array(ConsentStatementSchema) })
            .describe('`current` is the version to agree to now'),
          ...problems({}),
        },
      },
    },
    () => ({ current: CURRENT_CONSENT_STATEMENT.version, items: CONSENT_STATEMENTS.map((s) => ({ ...s })) }),
  );

  app.get(
    '/consent-statements/:version',
    {
      schema: {
        tags,
        summary: 'One version of the data privacy and compliance statement (what a consent record agreed to)',
        params: StatementVersionParamsSchema,
        response: {
          200: ConsentStatementSchema.describe('The statement'),
          ...problems({ 400: true, 404: 'No statement of this version' }),
        },
      },
    },
    (request) => {
      const statement = consentStatement(request.params.version);
      if (!statement) {
        throw new ProblemError(404, ProblemKind.notFound, `No consent statement ${request.params.version}.`, [
          { field: 'params.version', message: 'no such statement version' },
        ]);
      }
      return { ...statement };
    },
  );

  app.post(
    '/destinations/:id/consent',
    {
      schema: {
        tags,
        summary: 'Record agreement to the data privacy and compliance statement',
        params: IdParamsSchema,
        body: ConsentInputSchema,
        response: {
          201: ConsentSchema.describe('Recorded'),
          ...destinationProblems({ 400: 'A missing givenBy, or a statement version that was never published' }),
        },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await giveConsent(asCaller(deps, request), request.params.id, request.body, keyNameOf(request))),
  );

  app.get(
    '/destinations/:id/consent',
    {
      schema: {
        tags,
        summary: 'Every consent record, newest first',
        params: IdParamsSchema,
        response: {
          200: z.object({ items: z.array(ConsentSchema) }).describe('Consent records, withdrawn ones included'),
          ...destinationProblems(),
        },
      },
    },
    async (request) => {
      await deps.store.destinations.get(request.params.id);
      return { items: (await deps.store.consents.history(request.params.id)).map(consentRecordView) };
    },
  );

  app.delete(
    '/destinations/:id/consent',
    {
      schema: {
        tags,
        summary: 'Withdraw consent: cancels running exports and pauses the schedule',
        params: IdParamsSchema,
        querystring: WithdrawConsentQuerySchema,
        response: {
          200: WithdrawalSchema.describe('Withdrawn: the records withdrawn and the exports cancelled'),
          ...destinationProblems({ 502: 'Temporal did not answer' }),
        },
      },
    },
    async (request) =>
      withdrawConsent(asCaller(deps, request), request.params.id, request.query.withdrawnBy, keyNameOf(request)),
  );
  return Promise.resolve();
};
