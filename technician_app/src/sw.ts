// The service worker: precache the app shell (Workbox) so the app opens with no network,
// and answer every navigation under /app/ with the cached index.html. The API is never
// cached here: IndexedDB holds the data, the outbox holds the changes.
//
// Web Push: a push carries ids only ({kind, job_id, …}); it is shown in the technician's
// language with what the phone knows of the job, the open app is asked to sync, and a tap
// opens the job.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import en from "./i18n/en.json";
import zhCN from "./i18n/zh_CN.json";

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL("/app/index.html"), { allowlist: [/^\/app\//] }));

self.addEventListener("install", () => {
  void self.skipWaiting();
});
self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

interface PushPayload {
  kind?: string;
  job_id?: number;
}

/** Read one row of the app's IndexedDB (no Dexie in the worker: it stays small). */
function readRow<T>(store: string, key: IDBValidKey): Promise<T | undefined> {
  return new Promise((resolve) => {
    const open = indexedDB.open("fieldwork");
    open.onerror = () => {
      resolve(undefined);
    };
    open.onsuccess = () => {
      const database = open.result;
      try {
        const request = database.transaction(store, "readonly").objectStore(store).get(key);
        request.onsuccess = () => {
          resolve(request.result as T | undefined);
          database.close();
        };
        request.onerror = () => {
          resolve(undefined);
          database.close();
        };
      } catch {
        resolve(undefined);
        database.close();
      }
    };
  });
}

async function messages(): Promise<{ lang: string; text: Record<string, string> }> {
  const chosen = (await readRow<{ value: string | null }>("meta", "locale"))?.value;
  const profile = (await readRow<{ value: { locale?: string } | null }>("meta", "me"))?.value?.locale;
  const chinese = (chosen ?? profile ?? self.navigator.language).toLowerCase().startsWith("zh");
  return chinese ? { lang: "zh-CN", text: zhCN } : { lang: "en", text: en };
}

function fill(template: string | undefined, values: Record<string, string>): string {
  return (template ?? "").replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

self.addEventListener("push", (event) => {
  let payload: PushPayload = {};
  try {
    payload = (event.data?.json() ?? {}) as PushPayload;
  } catch {
    payload = {};
  }
  event.waitUntil(
    (async () => {
      const { lang, text } = await messages();
      const jobId = typeof payload.job_id === "number" ? payload.job_id : null;
      const job = jobId ? await readRow<{ summary?: { title?: string } }>("jobs", jobId) : undefined;
      const title = job?.summary?.title ?? text["push.aJob"] ?? "";
      const kind = payload.kind === "work_order_assigned" || payload.kind === "work_order_cancelled" ? payload.kind : "other";
      await self.registration.showNotification(fill(text[`push.title.${kind}`], { title }), {
        body: text["push.body"] ?? "",
        lang,
        tag: jobId ? `job-${jobId}` : "fieldwork",
        icon: "/app/icons/icon-192.png",
        data: { url: jobId ? `/app/jobs/${jobId}` : "/app/" },
      });
      for (const client of await self.clients.matchAll({ type: "window" })) {
        client.postMessage({ type: "fieldwork-sync" });
      }
    })(),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data as { url?: string } | null;
  const url = new URL(data?.url ?? "/app/", self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows.find((client) => client.url.startsWith(`${self.location.origin}/app/`));
      if (open) {
        await open.focus();
        await open.navigate(url);
      } else {
        await self.clients.openWindow(url);
      }
    })(),
  );
});
