import { HubspotClient, HubspotTarget } from './hubspot.client';
import { HubspotError, HubspotErrorCode } from './hubspot.errors';
import type { HubspotObjectType } from './hubspot-objects';

/** The default property group of each activity object, where the external-id property is created. */
const GROUP_OF: Partial<Record<HubspotObjectType, string>> = {
  calls: 'callinformation',
  meetings: 'meetinginformation',
  notes: 'noteinformation',
};

/**
 * The unique external-id property calls, meetings and notes are upserted on (issue 8). Checked once per destination
 * and object type: if it is missing the hub creates it (`POST /crm/v3/properties/{objectType}` with
 * `hasUniqueValue: true`; a 409 means another worker just did); if it cannot, the delivery fails with a message that
 * tells ops how to create it by hand.
 */
export class HubspotExternalIdProperty {
  private readonly ready = new Map<string, Promise<void>>();

  constructor(private readonly client: HubspotClient) {}

  ensure(target: HubspotTarget, objectType: HubspotObjectType, deadlineAt: number): Promise<void> {
    const name = target.config.externalIdProperty;
    const key = [target.destinationId, target.config.baseUrl, objectType, name].join('\n');
    let ready = this.ready.get(key);
    if (!ready) {
      ready = this.check(target, objectType, name, deadlineAt);
      this.ready.set(key, ready);
      // A failure is not cached: the next delivery asks again (ops may have fixed it).
      ready.catch(() => this.ready.delete(key));
    }
    return ready;
  }

  private async check(target: HubspotTarget, objectType: HubspotObjectType, name: string, deadlineAt: number) {
    const howTo =
      `Create it in HubSpot (Settings > Properties > ${objectType}: single-line text "${name}", "Require unique ` +
      `values" on) or give the private app the crm.schemas.${objectType}.write scope.`;
    try {
      const { json } = await this.client.send<{ hasUniqueValue?: boolean }>(
        target,
        { method: 'GET', path: `/crm/v3/properties/${objectType}/${name}` },
        deadlineAt,
      );
      if (json.hasUniqueValue) return;
      throw new HubspotError(
        HubspotErrorCode.Validation,
        `HubSpot property ${objectType}.${name} exists but does not require unique values, so the hub cannot upsert ` +
          `on it. Turn "Require unique values" on, or set config.externalIdProperty to a unique property.`,
      );
    } catch (err) {
      if (!(err instanceof HubspotError) || err.result?.statusCode !== 404) throw err;
    }
    try {
      await this.client.send(
        target,
        {
          method: 'POST',
          path: `/crm/v3/properties/${objectType}`,
          body: {
            name,
            label: 'Switchboard external id',
            description: 'The Switchboard canonical subject this record was written from. Do not edit.',
            groupName: GROUP_OF[objectType] ?? 'switchboard',
            type: 'string',
            fieldType: 'text',
            hasUniqueValue: true,
            formField: false,
          },
        },
        deadlineAt,
      );
    } catch (err) {
      if (!(err instanceof HubspotError)) throw err;
      if (err.result?.statusCode === 409) return;
      if (err.code === HubspotErrorCode.Unauthorized || err.code === HubspotErrorCode.Validation) {
        throw new HubspotError(
          err.code,
          `${err.message}. The hub could not create the unique property ${objectType}.${name}. ${howTo}`,
          undefined,
          err.result,
        );
      }
      throw err;
    }
  }
}
