import { useQuery } from '@tanstack/react-query';
import { enc, get } from './client';
import type { Connector, Destination, IssueGroup, Source } from './types';

// Shared queries: several pages name sources, destinations and connectors.
export const useConnectors = () =>
  useQuery({ queryKey: ['connectors'], queryFn: () => get<Connector[]>('/api/connectors'), staleTime: 60_000 });
export const useSources = () => useQuery({ queryKey: ['sources'], queryFn: () => get<Source[]>('/api/sources') });
/** `live`: the Destinations page polls, since health (success rate, backlog, last error) moves on its own. */
export const useDestinations = ({ live = false } = {}) =>
  useQuery({
    queryKey: ['destinations'],
    queryFn: () => get<Destination[]>('/api/destinations'),
    refetchInterval: live ? 5_000 : false,
  });
export const useIssues = () =>
  useQuery({
    queryKey: ['issues'],
    queryFn: () => get<{ groups: IssueGroup[] }>('/api/issues'),
    refetchInterval: 10_000,
  });
export const useIssue = (id: string | undefined) =>
  useQuery({
    queryKey: ['issues', id],
    queryFn: () => get<IssueGroup>(`/api/issues/${enc(id!)}`),
    enabled: !!id,
  });
