import { Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ApiErrors } from '../common/error-response.dto';
import { IssueActionResult, IssueGroupView, IssueListView } from './issues.dto';
import { IssuesService } from './issues.service';

@ApiTags('issues')
@ApiBearerAuth()
@ApiErrors(401, 503)
@UseGuards(ApiKeyGuard)
@Controller('api/issues')
export class IssuesController {
  constructor(private readonly issues: IssuesService) {}

  @Get()
  @ApiOperation({
    summary: 'What is failing now, in groups',
    description:
      'Deliveries failed or exhausted (by destination, status and CRM error code or HTTP status), events that ' +
      'failed normalisation (by connector, vendor event type and reason) and deliveries refused at /hooks in the ' +
      'last 24 h (by source and reason). Each group has a count, first and last seen, sample ids and its bulk action.',
  })
  @ApiOkResponse({ type: IssueListView })
  list() {
    return this.issues.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One group, as it is now' })
  @ApiOkResponse({ type: IssueGroupView })
  @ApiErrors({ 404: 'Nothing in the group is failing any more (or no such group)' })
  get(@Param('id') id: string) {
    return this.issues.get(id);
  }

  @Post(':id/action')
  @HttpCode(202)
  @ApiOperation({
    summary: "Run the group's bulk action",
    description:
      'Delivery groups: every member goes back to pending under its webhook-id (retry). Mapping groups: every ' +
      'member runs through the mapping in effect (renormalize), so a fixed mapping delivers each event once.',
  })
  @ApiAcceptedResponse({ type: IssueActionResult })
  @ApiErrors({
    404: 'Nothing in the group is failing any more (or no such group)',
    409: 'The group has no bulk action (verification rejections)',
  })
  act(@Param('id') id: string) {
    return this.issues.act(id);
  }
}
