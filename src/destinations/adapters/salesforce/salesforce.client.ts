import { OutboundClient, OutboundResult } from '../../../outbound/outbound.client';
import type { SalesforceConfig } from './salesforce.config';
import {
  classifyAnswer,
  classifyItems,
  parseJson,
  SalesforceError,
  SalesforceErrorCode,
  SalesforceErrorItem,
} from './salesforce.errors';

/** sObject Collections take up to 200 records per request (REST API: Upsert Records Using sObject Collections). */
export const COLLECTION_MAX = 200;
/** Collections answers are one UpsertResult per record: room for 200 of them with their error messages. */
const COLLECTION_RESPONSE_CAP = 512 * 1024;

export type SalesforceSObject = 'Account' | 'Contact' | 'Lead' | 'Task' | 'Event';

export type UpsertResult =
  | { ok: true; id?: string; created: boolean; statusCode: number; body?: string }
  | { ok: false; error: SalesforceError; statusCode?: number; body?: string };

export interface UpsertItem {
  /** The external id value: the canonical subject. */
  value: string;
  fields: Record<string, unknown>;
}

/**
 * The Salesforce REST calls the adapter makes, over the hub's one OutboundClient. It never throws: every answer
 * comes back classified, with the raw result for the attempt log and the quota headers.
 */
export class SalesforceClient {
  constructor(
    private readonly outbound: OutboundClient,
    private readonly config: SalesforceConfig,
    /** Sees every answer's headers (Sforce-Limit-Info). */
    private readonly observe: (result: OutboundResult) => void = () => undefined,
  ) {}

  private get base(): string {
    return `${this.config.instanceUrl}/services/data/v${this.config.apiVersion}`;
  }

  private headers(): Record<string, string> {
    return {
      authorization: `Bearer ${this.config.token}`,
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': 'Switchboard-Salesforce/0.1',
    };
  }

  /**
   * PATCH /sobjects/{SObject}/{field}/{value}: 201 created `{id, success, errors, created}`; 200 (or 204 before
   * API 46.0) updated; 300 when several records carry the value.
   */
  async upsert(sobject: SalesforceSObject, item: UpsertItem, deadlineMs: number): Promise<UpsertResult> {
    const url = `${this.base}/sobjects/${sobject}/${encodeURIComponent(this.config.externalIdField)}/${encodeURIComponent(item.value)}`;
    const result = await this.outbound.request({
      method: 'PATCH',
      url,
      headers: this.headers(),
      body: JSON.stringify(item.fields),
      deadlineMs,
    });
    this.observe(result);
    const error = classifyAnswer(result);
    if (error) return { ok: false, error, statusCode: result.statusCode, body: result.body };
    const answer = parseJson<{ id?: string; created?: boolean }>(result.body);
    return {
      ok: true,
      id: typeof answer?.id === 'string' ? answer.id : undefined,
      created: result.statusCode === 201 || answer?.created === true,
      statusCode: result.statusCode!,
      body: result.body,
    };
  }

  /**
   * PATCH /composite/sobjects/{SObject}/{field} `{allOrNone: false, records}`: one UpsertResult per record, in
   * order. A request-level failure (limit, 5xx, token) is every record's result.
   */
  async upsertCollection(sobject: SalesforceSObject, items: UpsertItem[], deadlineMs: number): Promise<UpsertResult[]> {
    const field = this.config.externalIdField;
    const records = items.map((item) => ({ attributes: { type: sobject }, ...item.fields, [field]: item.value }));
    const result = await this.outbound.request({
      method: 'PATCH',
      url: `${this.base}/composite/sobjects/${sobject}/${encodeURIComponent(field)}`,
      headers: this.headers(),
      body: JSON.stringify({ allOrNone: false, records }),
      deadlineMs,
      responseCapBytes: COLLECTION_RESPONSE_CAP,
    });
    this.observe(result);
    const error = classifyAnswer(result);
    if (error) return items.map(() => ({ ok: false, error, statusCode: result.statusCode, body: result.body }));
    const answers = parseJson<
      { id?: string | null; success?: boolean; created?: boolean; errors?: SalesforceErrorItem[] }[]
    >(result.body);
    if (!Array.isArray(answers) || answers.length !== items.length) {
      const unexpected: SalesforceError = {
        code: SalesforceErrorCode.Unavailable,
        message: `unexpected sObject Collections answer (HTTP ${result.statusCode}${result.truncated ? ', truncated' : ''})`,
      };
      return items.map(() => ({ ok: false, error: unexpected, statusCode: result.statusCode, body: result.body }));
    }
    return answers.map((answer) => {
      const body = JSON.stringify(answer);
      if (answer?.success) {
        return {
          ok: true,
          id: answer.id ?? undefined,
          created: !!answer.created,
          statusCode: result.statusCode!,
          body,
        };
      }
      return { ok: false, error: classifyItems(answer?.errors ?? []), statusCode: result.statusCode, body };
    });
  }

  /**
   * One SOSL search for a participant: `FIND {term} IN EMAIL|PHONE FIELDS RETURNING Contact(Id), Lead(Id)`.
   * Contacts come first, then leads.
   */
  async findPerson(
    term: string,
    scope: 'EMAIL' | 'PHONE',
    deadlineMs: number,
  ): Promise<
    { ok: true; matches: { type: 'Contact' | 'Lead'; id: string }[] } | { ok: false; error: SalesforceError }
  > {
    const q = `FIND {${escapeSosl(term)}} IN ${scope} FIELDS RETURNING Contact(Id), Lead(Id)`;
    const result = await this.outbound.request({
      method: 'GET',
      url: `${this.base}/search?q=${encodeURIComponent(q)}`,
      headers: this.headers(),
      deadlineMs,
      responseCapBytes: 64 * 1024,
    });
    this.observe(result);
    const error = classifyAnswer(result);
    if (error) return { ok: false, error };
    const answer = parseJson<{ searchRecords?: { attributes?: { type?: string }; Id?: string }[] }>(result.body);
    const matches = (answer?.searchRecords ?? [])
      .filter((r) => (r.attributes?.type === 'Contact' || r.attributes?.type === 'Lead') && typeof r.Id === 'string')
      .map((r) => ({ type: r.attributes!.type as 'Contact' | 'Lead', id: r.Id! }));
    return { ok: true, matches };
  }
}

/** SOSL reserved characters are escaped with a backslash (SOSL: FIND clause, "Reserved Characters"). */
export function escapeSosl(term: string): string {
  return term.replace(/[?&|!{}[\]()^~*:\\"'+-]/g, (c) => `\\${c}`);
}
