import { Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { correlationIdOf } from '../common/correlation';
import { ApiErrors } from '../common/error-response.dto';
import { IngestAccepted, IngestDuplicate } from './ingest.dto';
import { IngestResult, IngestService } from './ingest.service';
import { RequestWithSource } from './source-lookup.middleware';

@ApiTags('ingest')
@Controller('hooks')
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  /** 202 {id} when stored; 200 {id, duplicate: true} for a delivery already stored (DESIGN §6). */
  @Post(':sourceId')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Vendor webhook entry point: verify, store, acknowledge',
    description:
      'No API key: the source id in the URL and the signature (or token) the connector scheme checks authenticate ' +
      'the vendor. The body is kept as raw bytes and verified exactly as received, before it is parsed. Rejections ' +
      'are checked in this order (DESIGN §7): unknown or disabled source 404, over 1 MiB 413, not JSON 415, ' +
      'verification 401, malformed JSON 400. The event is committed to storage before any 2xx.',
  })
  @ApiParam({
    name: 'sourceId',
    description: 'The source id (src_…) from its url',
    example: 'src_7Qk2mVbN4xHs9TzR1wLcPd',
  })
  @ApiConsumes('application/json')
  @ApiBody({
    description: 'The vendor body as sent: raw bytes, verified before parsing, never re-serialised',
    schema: { type: 'object', additionalProperties: true, example: { type: 'v1.engagement.updated', data: {} } },
  })
  @ApiAcceptedResponse({ type: IngestAccepted, description: 'Stored and queued' })
  @ApiOkResponse({
    type: IngestDuplicate,
    description: 'Already stored (a vendor retry): accepted, not processed again',
  })
  @ApiErrors({
    400: 'Malformed JSON, or the body lacks the event type the connector reads',
    401: 'Verification failed: the message names the reason (bad signature, stale timestamp, bad token, …)',
    404: 'Unknown or disabled source',
    413: 'Body larger than 1 MiB',
    415: 'Content-Type is not JSON',
    503: 'Storage is unavailable; retry after Retry-After seconds (nothing was acknowledged)',
  })
  async receive(
    @Param('sourceId') _sourceId: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IngestResult | IngestAccepted> {
    const source = (req.raw as RequestWithSource).hubSource!;
    const result = await this.ingest.receive(source, {
      rawBody: req.body as Buffer | undefined,
      headers: req.headers,
      remoteAddress: req.ip,
      correlationId: correlationIdOf(req),
    });
    if (result.duplicate) {
      reply.status(200);
      return result;
    }
    return { id: result.id };
  }
}
