// The API's OpenAPI 3.1 document, generated from the zod schemas (JSON Schema 2020-12, which
// OpenAPI 3.1 uses as is): the routes and the schemas cannot drift apart.
import { z } from 'zod'
import { Accepted, AccountId, AccountView, DepositBody, PauseBody, Pauses, Problem } from './schemas.js'

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) } })
const problem = (description: string) => ({ description, content: json(Problem) })
const idParam = { name: 'id', in: 'path', required: true, schema: z.toJSONSchema(AccountId) }
const requestIdHeader = { name: 'X-Request-Id', in: 'header', required: false, description: 'kept as the correlation id of every message and log line of the request; made when absent', schema: { type: 'string' } }

export function openApiDocument(serverUrl?: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'troupe http-app example', version: '1.0.0', description: 'Deposits told to keyed Account actors; reads asked of them.' },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths: {
      '/accounts/{id}/deposits': {
        post: {
          operationId: 'deposit',
          summary: 'Deposit into an account (applied asynchronously)',
          parameters: [idParam, requestIdHeader],
          requestBody: { required: true, content: json(DepositBody) },
          responses: {
            '202': { description: 'Accepted: told to the account', content: json(Accepted) },
            '400': problem('The body or the id is invalid; the error names the field'),
          },
        },
      },
      '/accounts/{id}': {
        get: {
          operationId: 'getAccount',
          summary: "An account's balances, asked of its actor",
          parameters: [idParam, requestIdHeader],
          responses: {
            '200': { description: 'The account', content: json(AccountView) },
            '400': problem('The id is invalid'),
            '504': problem('The account did not answer in time'),
          },
        },
      },
      '/admin/actors/{type}/pause': { post: manage('pauseActor', 'Pause an actor type, or one key: its messages wait') },
      '/admin/actors/{type}/resume': { post: manage('resumeActor', 'Resume it: what waited is delivered first, in order') },
      '/admin/pauses': {
        get: {
          operationId: 'listPauses',
          summary: 'What is paused now',
          security: [{ bearer: [] }],
          responses: { '200': { description: 'The pauses', content: json(Pauses) }, '401': problem('No or a wrong bearer token') },
        },
      },
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  }
}

function manage(operationId: string, summary: string) {
  return {
    operationId,
    summary,
    security: [{ bearer: [] }],
    parameters: [{ name: 'type', in: 'path', required: true, description: 'the actor type, e.g. account', schema: { type: 'string' } }, requestIdHeader],
    requestBody: { required: false, content: json(PauseBody) },
    responses: {
      '200': { description: 'Every pause now', content: json(Pauses) },
      '400': problem('The body is invalid'),
      '401': problem('No or a wrong bearer token'),
      '404': problem('No such actor type'),
      '409': problem('The actor type cannot be paused (a stateless type on AWS)'),
    },
  }
}
