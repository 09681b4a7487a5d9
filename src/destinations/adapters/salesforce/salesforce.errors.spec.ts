import { OutboundErrorCode, OutboundResult } from '../../../outbound/outbound.client';
import { normalizeConfig } from '../config-specs';
import { SALESFORCE_CONFIG_SPEC } from './salesforce.config';
import { classifyAnswer, classifyItems, outcomeOf, SalesforceErrorCode } from './salesforce.errors';
import { parseLimitInfo } from './salesforce-quota';

const answer = (
  statusCode: number | undefined,
  body?: unknown,
  extra: Partial<OutboundResult> = {},
): OutboundResult => ({
  statusCode,
  body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  durationMs: 1,
  ...extra,
});
const backoff = { dailyLimitMs: 900_000, otherLimitMs: 30_000 };

describe(classifyAnswer.name, () => {
  it('passes 2xx and classifies each documented error answer', () => {
    expect(classifyAnswer(answer(201, { id: '003', success: true, errors: [], created: true }))).toBeUndefined();
    expect(classifyAnswer(answer(204))).toBeUndefined();
    expect(classifyAnswer(answer(300, ['/services/data/v60.0/sobjects/Contact/003A', '/x/003B']))).toMatchObject({
      code: SalesforceErrorCode.MultipleMatches,
      message: 'HTTP 300, several records match: /services/data/v60.0/sobjects/Contact/003A, /x/003B',
    });
    expect(
      classifyAnswer(
        answer(400, [
          {
            message: 'Required fields are missing: [LastName]',
            errorCode: 'REQUIRED_FIELD_MISSING',
            fields: ['LastName'],
          },
        ]),
      ),
    ).toEqual({
      code: SalesforceErrorCode.Rejected,
      message: 'REQUIRED_FIELD_MISSING: Required fields are missing: [LastName]',
      fields: ['LastName'],
    });
    expect(
      classifyAnswer(
        answer(404, [
          { message: 'Provided external ID field does not exist or is not accessible: X__c', errorCode: 'NOT_FOUND' },
        ]),
      ),
    ).toMatchObject({ code: SalesforceErrorCode.Rejected });
    expect(
      classifyAnswer(answer(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }])),
    ).toMatchObject({
      code: SalesforceErrorCode.InvalidSession,
    });
    expect(
      classifyAnswer(answer(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }])),
    ).toMatchObject({ code: SalesforceErrorCode.RequestLimit });
    expect(classifyAnswer(answer(503, '<html>down</html>', { retryAfterSeconds: 5 }))).toMatchObject({
      code: SalesforceErrorCode.Unavailable,
      retryAfterMs: 5000,
    });
    expect(
      classifyAnswer(answer(undefined, undefined, { error: 'socket hang up', errorCode: OutboundErrorCode.Network })),
    ).toMatchObject({
      code: SalesforceErrorCode.Network,
    });
    expect(classifyAnswer(answer(undefined, undefined, { refused: true, error: 'private address' }))).toMatchObject({
      code: SalesforceErrorCode.Refused,
    });
  });

  it('reads sObject Collections record errors (statusCode), a create-only field and a locked row', () => {
    expect(
      classifyItems([
        {
          statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE',
          message: 'Unable to create/update fields: TaskSubtype.',
          fields: ['TaskSubtype'],
        },
      ]),
    ).toMatchObject({ code: SalesforceErrorCode.CreateOnlyField });
    expect(
      classifyItems([{ statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', message: 'x', fields: ['OwnerId'] }]),
    ).toMatchObject({
      code: SalesforceErrorCode.Rejected,
    });
    expect(
      classifyItems([{ statusCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access' }]),
    ).toMatchObject({
      code: SalesforceErrorCode.Unavailable,
    });
  });
});

describe(outcomeOf.name, () => {
  const detail = { durationMs: 1 };
  it('retries limits with their own wait, fails what a retry cannot fix', () => {
    expect(
      outcomeOf({ code: SalesforceErrorCode.RequestLimit, message: 'TotalRequests Limit exceeded.' }, detail, backoff),
    ).toMatchObject({
      outcome: 'retry',
      afterMs: 900_000,
    });
    expect(
      outcomeOf({ code: SalesforceErrorCode.RequestLimit, message: 'x', retryAfterMs: 2000 }, detail, backoff),
    ).toMatchObject({
      afterMs: 2000,
    });
    expect(outcomeOf({ code: SalesforceErrorCode.Network, message: 'reset' }, detail, backoff)).toMatchObject({
      outcome: 'retry',
    });
    for (const code of [
      SalesforceErrorCode.MultipleMatches,
      SalesforceErrorCode.Rejected,
      SalesforceErrorCode.InvalidSession,
    ]) {
      expect(outcomeOf({ code, message: 'm' }, detail, backoff)).toMatchObject({ outcome: 'failed' });
    }
  });
});

describe('Salesforce config and limits', () => {
  it('defaults apiVersion and externalIdField, seals the token and refuses bad values', () => {
    expect(
      normalizeConfig(SALESFORCE_CONFIG_SPEC, { instanceUrl: 'https://acme.my.salesforce.com', token: 't' }),
    ).toEqual({
      config: {
        instanceUrl: 'https://acme.my.salesforce.com',
        apiVersion: '60.0',
        externalIdField: 'Switchboard_Id__c',
      },
      secrets: { token: 't' },
    });
    expect(normalizeConfig(SALESFORCE_CONFIG_SPEC, { token: 't' })).toBe('config.instanceUrl is required');
    expect(
      normalizeConfig(SALESFORCE_CONFIG_SPEC, {
        instanceUrl: 'https://a.my.salesforce.com',
        token: 't',
        apiVersion: '45.0',
      }),
    ).toMatch(/46\.0 or later/);
    expect(
      normalizeConfig(SALESFORCE_CONFIG_SPEC, {
        instanceUrl: 'https://a.my.salesforce.com',
        token: 't',
        externalIdField: 'a/b',
      }),
    ).toMatch(/API name/);
    expect(
      normalizeConfig(SALESFORCE_CONFIG_SPEC, { instanceUrl: 'https://a.my.salesforce.com/x', token: 't' }),
    ).toMatch(/origin only/);
  });

  it('parses Sforce-Limit-Info', () => {
    expect(parseLimitInfo({ 'sforce-limit-info': 'api-usage=18/5000' })).toEqual({ used: 18, max: 5000 });
    expect(parseLimitInfo({ 'sforce-limit-info': 'api-usage=25/5000; per-app-api-usage=17/250(appName=x)' })).toEqual({
      used: 25,
      max: 5000,
    });
    expect(parseLimitInfo({})).toBeUndefined();
  });
});
