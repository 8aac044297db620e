/**
 * Roll-forward of changes a crash left staged, shared by the admin use cases
 * that go stage → record in the `system` log → promote (principals, detection
 * rules). One pass over every page of a store's listing: each entry with a
 * staged change is settled (RECORD, then PROMOTE); one that cannot be settled
 * stays staged for the next pass and is counted, never thrown, so one bad
 * entry cannot stop the others from completing.
 */
export interface StagedPage<T> {
  readonly items: readonly T[];
  readonly cursor?: string;
}

export async function settleAllStaged<T extends { readonly pending?: unknown }>(
  listPage: (cursor: string | undefined) => Promise<StagedPage<T>>,
  settle: (item: T) => Promise<unknown>,
): Promise<{ completed: number; failed: number }> {
  let completed = 0;
  let failed = 0;
  let cursor: string | undefined;
  do {
    const page = await listPage(cursor);
    for (const item of page.items) {
      if (!item.pending) continue;
      try {
        await settle(item);
        completed++;
      } catch {
        failed++; // left staged; the next run or the next change retries it
      }
    }
    cursor = page.cursor;
  } while (cursor);
  return { completed, failed };
}
