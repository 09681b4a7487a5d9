import { Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { correlationIdOf } from '../common/correlation';
import { IngestResult, IngestService } from './ingest.service';
import { RequestWithSource } from './source-lookup.middleware';

@ApiTags('ingest')
@Controller('hooks')
export class IngestController {
  constructor(private readonly ingest: IngestService) {}

  /** 202 {id} when stored; 200 {id, duplicate: true} for a delivery already stored (DESIGN §6). */
  @Post(':sourceId')
  @HttpCode(202)
  @ApiOperation({ summary: 'Vendor webhook entry point' })
  async receive(
    @Param('sourceId') _sourceId: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IngestResult | { id: string }> {
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
