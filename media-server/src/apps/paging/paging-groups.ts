/**
 * What the paging application needs of storage (a port that calls/ implements
 * over @carillon/core): a paging group's pagers and receiving devices, read at
 * each page so that a change made in the app counts for the very next one.
 */
export interface PagingGroups {
  /** Null when the extension is not a paging group of the account. */
  targets(accountId: string, groupExtensionId: string): Promise<PagingGroupTargets | null>;
}

export interface PagingGroupTargets {
  /** The users' extensions allowed to page the group (PG-03). */
  pagerExtensionIds: readonly string[];
  /** The devices that receive its pages, each with the extension it registers under. */
  receivers: readonly { deviceId: string; extensionId: string; extensionNumber: string }[];
}
