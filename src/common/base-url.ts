import type { FastifyRequest } from 'fastify';
import type { HubConfig } from '../config/hub-config';

/** DESIGN §7: URLs in the API are absolute: HUB_PUBLIC_URL, else the request's own scheme and host. */
export function baseUrlOf(config: HubConfig, request: FastifyRequest): string {
  if (config.publicUrl) return config.publicUrl;
  return `${request.protocol}://${request.host ?? request.hostname}`;
}
