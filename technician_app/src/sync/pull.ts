// Pull: the server's jobs into IndexedDB by the delta sync (`since` cursor; 410 → full).
import { makeClient, type ApiClient } from "../api/client";
import type { JobDetail, JobList, JobSummary, Me } from "../api/types";
import { db, getMeta, setMeta, type FieldworkDB, type JobRow } from "../db/db";
import { storeDetail } from "./replay";
import { currentAccessToken, ensureAccess, loadSession, refresh, storeMe } from "./session";
import { phoneTime } from "./time";

export type PullResult = "ok" | "offline" | "auth";

class Stop extends Error {
  constructor(public readonly why: "offline" | "auth") {
    super(why);
  }
}

interface Got {
  status: number;
  data: unknown;
  etag: string | null;
}

/** Run a request; refresh the token once on 401; throw Stop when offline or signed out. */
async function call(run: () => Promise<{ data?: unknown; error?: unknown; response: Response }>, database: FieldworkDB): Promise<Got> {
  for (let attempt = 0; attempt < 2; attempt++) {
    let result;
    try {
      result = await run();
    } catch {
      throw new Stop("offline");
    }
    if (result.response.status === 401 && attempt === 0 && (await refresh(database))) continue;
    if (result.response.status === 401) throw new Stop("auth");
    return { status: result.response.status, data: result.data, etag: result.response.headers.get("ETag") };
  }
  throw new Stop("auth");
}

async function hasUnsent(database: FieldworkDB, jobId: number): Promise<boolean> {
  return (await database.outbox.where("jobId").equals(jobId).filter((i) => i.status !== "sent").count()) > 0;
}

async function storeSummary(database: FieldworkDB, summary: JobSummary): Promise<void> {
  const existing = await database.jobs.get(summary.id);
  const row: JobRow = {
    ...(existing ?? { detail: null }),
    id: summary.id,
    summary,
    serverVersion: summary.version,
    syncedAt: phoneTime(),
    removedOnServer: false,
    // The list moved on: the detail is refetched below.
    stale: existing?.detail ? existing.detail.version !== summary.version : true,
  };
  await database.jobs.put(row);
}

async function removeJob(database: FieldworkDB, jobId: number): Promise<void> {
  // Never drop a job that still has steps of ours to send: show it as gone instead.
  if (await hasUnsent(database, jobId)) await database.jobs.update(jobId, { removedOnServer: true });
  else {
    await database.jobs.delete(jobId);
    await database.drafts.delete(jobId);
    await database.photos.where("jobId").equals(jobId).delete();
    await database.serverPhotos.where("jobId").equals(jobId).delete();
  }
}

async function fullSync(client: ApiClient, database: FieldworkDB): Promise<string> {
  const seen = new Set<number>();
  let cursor: string | null = null;
  for (const scope of ["active", "recent"] as const) {
    let page: string | undefined;
    do {
      const answer = await call(
        () => client.GET("/jobs", { params: { query: { scope, ...(page ? { page } : {}) } } }),
        database,
      );
      const list = answer.data as JobList | undefined;
      if (answer.status !== 200 || !list) throw new Stop("offline");
      cursor ??= list.sync_cursor;
      for (const job of list.items) {
        seen.add(job.id);
        await storeSummary(database, job);
      }
      page = list.next_page ?? undefined;
    } while (page);
  }
  for (const key of await database.jobs.toCollection().primaryKeys()) {
    if (!seen.has(key)) await removeJob(database, key);
  }
  return cursor ?? "0";
}

async function deltaSync(client: ApiClient, database: FieldworkDB, since: string): Promise<string | null> {
  let cursor = since;
  for (;;) {
    // The answer for a cursor only changes when something did: 304 then, and no body.
    const known = await getMeta<{ since: string; etag: string }>("deltaEtag", database);
    const headers: Record<string, string> = known?.since === cursor ? { "If-None-Match": known.etag } : {};
    const answer = await call(() => client.GET("/jobs", { params: { query: { since: cursor } }, headers }), database);
    if (answer.status === 304) return cursor;
    if (answer.status === 410) return null; // too old: full sync
    const list = answer.data as JobList | undefined;
    if (answer.status !== 200 || !list) throw new Stop("offline");
    for (const job of list.items) await storeSummary(database, job);
    for (const id of list.removed) await removeJob(database, id);
    if (answer.etag && list.sync_cursor === cursor) await setMeta("deltaEtag", { since: cursor, etag: answer.etag }, database);
    cursor = list.sync_cursor;
    if (!list.has_more) return cursor;
  }
}

async function fetchDetails(client: ApiClient, database: FieldworkDB): Promise<void> {
  const rows = await database.jobs.filter((row) => !row.removedOnServer && (row.stale === true || row.detail === null)).toArray();
  for (const row of rows) {
    const answer = await call(() => client.GET("/jobs/{job_id}", { params: { path: { job_id: row.id } } }), database);
    if (answer.status === 200 && answer.data) {
      await storeDetail(database, answer.data as JobDetail);
      await fetchThumbnails(database, answer.data as JobDetail);
    } else if (answer.status === 404) await removeJob(database, row.id);
  }
}

/** Keep thumbnails of the job's server photos that this phone did not take itself. */
async function fetchThumbnails(database: FieldworkDB, detail: JobDetail): Promise<void> {
  const mine = new Set((await database.photos.where("jobId").equals(detail.id).toArray()).map((p) => p.clientId));
  const have = new Set(await database.serverPhotos.where("jobId").equals(detail.id).primaryKeys());
  for (const photo of detail.photos) {
    if (have.has(photo.id) || (photo.client_id && mine.has(photo.client_id))) continue;
    const token = currentAccessToken();
    let response: Response;
    try {
      response = await fetch(photo.thumbnail_url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    } catch {
      return; // offline: next time
    }
    if (!response.ok) continue;
    await database.serverPhotos.put({ id: photo.id, jobId: detail.id, blob: await response.blob(), capturedAt: photo.captured_at });
  }
  // Photos the server no longer has (a job reopened elsewhere) leave the phone too.
  const current = new Set(detail.photos.map((photo) => photo.id));
  await database.serverPhotos.bulkDelete([...have].filter((id) => !current.has(id)));
}

/** Bring the phone's jobs up to date; keep the cursor and the time of the last sync. */
export async function pull(database: FieldworkDB = db): Promise<PullResult> {
  if (!(await ensureAccess(database))) {
    const session = await loadSession(database);
    return !session || session.expired ? "auth" : "offline";
  }
  const client = makeClient(currentAccessToken);
  try {
    const me = await call(() => client.GET("/me"), database);
    if (me.status === 200 && me.data) await storeMe(me.data as Me, database);
    const since = await getMeta<string>("syncCursor", database);
    const cursor = (since ? await deltaSync(client, database, since) : null) ?? (await fullSync(client, database));
    await setMeta("syncCursor", cursor, database);
    await fetchDetails(client, database);
    // Jobs the server took away, kept while steps of ours waited on them: gone once settled.
    for (const row of await database.jobs.filter((job) => job.removedOnServer === true).toArray()) {
      await removeJob(database, row.id);
    }
    await setMeta("lastSyncedAt", new Date().toISOString(), database);
    return "ok";
  } catch (error) {
    if (error instanceof Stop) return error.why;
    throw error;
  }
}
