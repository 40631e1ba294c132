// When to sync: at app start, when the network comes back, on "Sync now", and every
// minute while the app is open (no Background Sync API: only Chromium has it).
// One round at a time: first the outbox goes out, then the server's changes come in.
import { db, setMeta, type FieldworkDB } from "../db/db";
import { pull } from "./pull";
import { replay, type ReplaySummary } from "./replay";
import { loadSession, withLock } from "./session";
import { httpTransport } from "./transport";

export interface SyncStatus {
  running: boolean;
  /** offline: no network · auth: sign in again · ok */
  result: "ok" | "offline" | "auth" | null;
  at: string | null;
}

let running: Promise<SyncStatus> | null = null;
/** Set when a sync was asked for while one ran: run once more after it. */
const pending = { again: false };
const askedAgain = (): boolean => pending.again;

/** Run one sync round (or join the running one and run once more after it). */
export function syncNow(database: FieldworkDB = db): Promise<SyncStatus> {
  if (running) {
    pending.again = true;
    return running;
  }
  running = (async () => {
    let status: SyncStatus;
    do {
      pending.again = false;
      status = await withLock("fieldwork-sync", () => round(database));
    } while (askedAgain() && status.result === "ok");
    return status;
  })().finally(() => {
    running = null;
  });
  return running;
}

async function round(database: FieldworkDB): Promise<SyncStatus> {
  await setMeta("syncStatus", { running: true, result: null, at: new Date().toISOString() }, database);
  let result: SyncStatus["result"] = "ok";
  const session = await loadSession(database);
  if (!session || session.expired) {
    result = "auth";
  } else {
    let sent: ReplaySummary;
    try {
      sent = await replay(httpTransport(database), database);
    } catch {
      sent = { sent: 0, refused: 0, stopped: "offline" };
    }
    if (sent.stopped) result = sent.stopped;
    else result = await pull(database).catch(() => "offline" as const);
    if (result === "ok" && sent.sent + sent.refused > 0) {
      // What we sent may have unblocked more (e.g. a refetched version): one more pass.
      const more = await replay(httpTransport(database), database).catch(() => null);
      if (more?.stopped) result = more.stopped;
    }
  }
  const status: SyncStatus = { running: false, result, at: new Date().toISOString() };
  await setMeta("syncStatus", status, database);
  return status;
}

/** Start syncing on the triggers above; returns a function that stops it. */
export function startSyncTriggers(database: FieldworkDB = db): () => void {
  const onOnline = () => void syncNow(database);
  window.addEventListener("online", onOnline);
  // A push arrived (the service worker says so): fetch what it is about.
  const onMessage = (event: MessageEvent) => {
    if ((event.data as { type?: string } | null)?.type === "fieldwork-sync") void syncNow(database);
  };
  // No service worker outside a secure context (plain http on a LAN address).
  const worker = "serviceWorker" in navigator ? navigator.serviceWorker : null;
  worker?.addEventListener("message", onMessage);
  const timer = window.setInterval(() => {
    if (document.visibilityState === "visible" && navigator.onLine) void syncNow(database);
  }, 60_000);
  void syncNow(database);
  return () => {
    window.removeEventListener("online", onOnline);
    worker?.removeEventListener("message", onMessage);
    window.clearInterval(timer);
  };
}

/** Ask the browser to keep our storage under pressure (the queue must survive). */
export async function requestPersistence(): Promise<boolean> {
  try {
    if (await navigator.storage.persisted()) return true;
    return await navigator.storage.persist();
  } catch {
    return false;
  }
}
