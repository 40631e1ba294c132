// Subscribe a component to IndexedDB: re-render whenever what the query read changes.
import { liveQuery } from "dexie";
import { useEffect, useState } from "preact/hooks";

/** Return the current result of `query` (undefined until the first read). */
export function useLive<T>(query: () => Promise<T> | T, deps: readonly unknown[]): T | undefined {
  const [value, setValue] = useState<T | undefined>(undefined);
  useEffect(() => {
    const subscription = liveQuery(query).subscribe({
      next: (result) => {
        setValue(() => result);
      },
      error: (error: unknown) => {
        console.error(error);
      },
    });
    return () => {
      subscription.unsubscribe();
    };
  }, deps);
  return value;
}
