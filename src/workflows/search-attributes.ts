import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes that make export runs findable in the Temporal UI and CLI. Defined once: workflows
 * and clients set them, the dev server registers them, and operators filter on them, e.g.
 * `AudienceId = '2385…' AND ExportTrigger = 'schedule'`. None of them may hold personal data.
 */
export const searchAttributes = {
  destinationId: defineSearchAttributeKey('DestinationId', SearchAttributeType.KEYWORD),
  adAccountId: defineSearchAttributeKey('AdAccountId', SearchAttributeType.KEYWORD),
  audienceId: defineSearchAttributeKey('AudienceId', SearchAttributeType.KEYWORD),
  segments: defineSearchAttributeKey('Segments', SearchAttributeType.KEYWORD_LIST),
  mode: defineSearchAttributeKey('ExportMode', SearchAttributeType.KEYWORD),
  trigger: defineSearchAttributeKey('ExportTrigger', SearchAttributeType.KEYWORD),
} as const;

const CLI_TYPE_NAMES: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
};

/** `--search-attribute Name=Type` flags for `temporal server start-dev`. */
export function searchAttributeFlags(): string[] {
  return Object.values(searchAttributes).flatMap((key) => [
    '--search-attribute',
    `${key.name}=${CLI_TYPE_NAMES[key.type] ?? 'Keyword'}`,
  ]);
}
