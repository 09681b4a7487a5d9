import { HttpStatus } from '@nestjs/common';
import { exhaustive, HubException } from '../common/hub.exception';

export enum IssuesErrorCode {
  /** An id no group has, or a group in which nothing fails any more. */
  NotFound = 'issue_not_found',
  /** POST …/action on a group whose kind has no bulk action (verification rejections: the vendor must resend). */
  NoAction = 'issue_no_action',
}

export class IssuesException extends HubException<IssuesErrorCode> {
  get status(): HttpStatus {
    switch (this.code) {
      case IssuesErrorCode.NotFound:
        return HttpStatus.NOT_FOUND;
      case IssuesErrorCode.NoAction:
        return HttpStatus.CONFLICT;
      default:
        return exhaustive(this.code);
    }
  }
}
