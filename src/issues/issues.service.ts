import { Inject, Injectable } from '@nestjs/common';
import { groupId, ISSUE_KIND_PROVIDERS, IssueActionKind, IssueGroup, IssueKind, kindOfGroupId } from './issue';
import { IssuesErrorCode, IssuesException } from './issues.exception';

/** GET /api/issues and its actions: every registered IssueKind, asked now (nothing is cached or stored). */
@Injectable()
export class IssuesService {
  constructor(@Inject(ISSUE_KIND_PROVIDERS) private readonly kinds: IssueKind[]) {}

  /** Every group of every kind, the most recently seen first. */
  async list(): Promise<{ groups: IssueGroup[] }> {
    const found = await Promise.all(
      this.kinds.map(async (kind) =>
        (await kind.groups()).map((group) => ({ ...group, id: groupId(kind.kind, group.key) })),
      ),
    );
    const groups = found.flat().sort((a, b) => b.lastSeenAt.getTime() - a.lastSeenAt.getTime());
    return { groups };
  }

  async get(id: string): Promise<IssueGroup> {
    return (await this.find(id)).group;
  }

  /** The group's bulk action on every member failing now (up to MAX_ISSUE_ACTION). */
  async act(id: string): Promise<{ kind: IssueActionKind; count: number }> {
    const { kind, group } = await this.find(id);
    if (!group.action || !kind.act) {
      throw new IssuesException(
        IssuesErrorCode.NoAction,
        `Issues of kind ${kind.kind} have no bulk action: nothing was stored, so the sender must send again`,
      );
    }
    return { kind: group.action.kind, count: await kind.act(group.key) };
  }

  /** Ids are hashes: the group is found among its kind's groups now, or is not failing any more. */
  private async find(id: string): Promise<{ kind: IssueKind; group: IssueGroup }> {
    const name = kindOfGroupId(id);
    const kind = name && this.kinds.find((k) => k.kind === name);
    const found = kind && (await kind.groups()).find((group) => groupId(kind.kind, group.key) === id);
    if (!kind || !found) throw new IssuesException(IssuesErrorCode.NotFound, `No issue ${id} is failing now`);
    return { kind, group: { ...found, id } };
  }
}
