import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { JobSummary } from "../src/api/types";
import { FieldworkDB, getMeta, setMeta } from "../src/db/db";
import { queueTransition } from "../src/sync/outbox";
import { pull } from "../src/sync/pull";
import { resetSessionCache } from "../src/sync/session";
import { detail, summary } from "./fixtures";

let database: FieldworkDB;
let counter = 0;

/** A fake /api/mobile/v1: jobs by id, a feed of changes, and a cursor that may expire. */
function fakeApi() {
  const state = {
    jobs: new Map<number, JobSummary>(),
    changed: [] as number[],
    removed: [] as number[],
    cursor: 10,
    expired: false,
    calls: [] as string[],
    notModified: 0,
  };
  const reply = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  vi.stubGlobal("location", { origin: "http://phone" });
  vi.stubGlobal("fetch", (input: Request) => {
    const url = new URL(input.url, "http://phone");
    const path = url.pathname.replace("/api/mobile/v1", "");
    state.calls.push(`${path}${url.search}`);
    if (path === "/me") return Promise.resolve(reply({ id: 1, username: "anna", display_name: "Anna", locale: "en", status: null }));
    if (path === "/jobs") {
      const since = url.searchParams.get("since");
      if (since !== null) {
        if (state.expired) return Promise.resolve(reply({ code: "sync_cursor_expired", status: 410 }, 410));
        const etag = `W/"${since}-${state.cursor}"`;
        if (input.headers.get("If-None-Match") === etag) {
          state.notModified += 1;
          return Promise.resolve(new Response(null, { status: 304, headers: { ETag: etag } }));
        }
        const items = state.changed.flatMap((id) => (state.jobs.has(id) ? [state.jobs.get(id)] : []));
        const body = { items, removed: state.removed, next_page: null, has_more: false, sync_cursor: String(state.cursor) };
        state.changed = [];
        state.removed = [];
        const answer = reply(body);
        answer.headers.set("ETag", etag);
        return Promise.resolve(answer);
      }
      const scope = url.searchParams.get("scope");
      const items = scope === "active" ? [...state.jobs.values()] : [];
      return Promise.resolve(reply({ items, removed: [], next_page: null, has_more: false, sync_cursor: String(state.cursor) }));
    }
    const job = /^\/jobs\/(\d+)$/.exec(path);
    if (job) {
      const found = state.jobs.get(Number(job[1]));
      return Promise.resolve(found ? reply(detail({ ...found })) : reply({ code: "not_found", status: 404 }, 404));
    }
    return Promise.resolve(reply({ code: "not_found" }, 404));
  });
  return state;
}

beforeEach(async () => {
  counter += 1;
  database = new FieldworkDB(`pull-${counter}`);
  await database.open();
  resetSessionCache();
  vi.stubGlobal("location", { origin: "http://phone" });
  await setMeta(
    "session",
    { username: "anna", accessToken: "fwa_x", refreshToken: "fwr_x", accessExpiresAt: Date.now() + 3_600_000, expired: false },
    database,
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("the delta sync", () => {
  it("starts full, then asks only for changes since its cursor, and drops removed jobs", async () => {
    const api = fakeApi();
    api.jobs.set(1, summary({ id: 1 }));
    api.jobs.set(2, summary({ id: 2 }));
    expect(await pull(database)).toBe("ok");
    expect(await database.jobs.count()).toBe(2);
    expect(await getMeta("syncCursor", database)).toBe("10");
    expect((await database.jobs.get(1))?.detail?.id).toBe(1);

    api.calls.length = 0;
    api.jobs.set(1, summary({ id: 1, title: "Changed", version: 4 }));
    api.changed = [1];
    api.removed = [2];
    api.cursor = 12;
    expect(await pull(database)).toBe("ok");
    expect(api.calls).toContain("/jobs?since=10");
    expect(api.calls).not.toContain("/jobs?scope=active");
    expect((await database.jobs.get(1))?.summary.title).toBe("Changed");
    expect(await database.jobs.get(2)).toBeUndefined();
    expect(await getMeta("syncCursor", database)).toBe("12");
    expect(await getMeta("lastSyncedAt", database)).toEqual(expect.any(String));
  });

  it("asks with If-None-Match once nothing changes, and takes 304 as nothing new", async () => {
    const api = fakeApi();
    api.jobs.set(1, summary({ id: 1 }));
    await pull(database); // full
    await pull(database); // delta: nothing changed, cursor stays: its ETag is kept
    await pull(database); // the same question again: 304
    expect(api.notModified).toBe(1);
    expect(await database.jobs.count()).toBe(1);
    expect(await getMeta("syncCursor", database)).toBe("10");
  });

  it("does a full sync when the cursor is too old (410)", async () => {
    const api = fakeApi();
    api.jobs.set(1, summary({ id: 1 }));
    await pull(database);
    api.expired = true;
    api.jobs.delete(1);
    api.jobs.set(3, summary({ id: 3 }));
    api.calls.length = 0;
    expect(await pull(database)).toBe("ok");
    expect(api.calls.slice(0, 3)).toEqual(["/me", "/jobs?since=10", "/jobs?scope=active"]);
    expect((await database.jobs.toCollection().primaryKeys()).sort()).toEqual([3]);
  });

  it("keeps a removed job while steps of ours wait on it, marked as gone", async () => {
    const api = fakeApi();
    api.jobs.set(1, summary({ id: 1 }));
    await pull(database);
    await queueTransition(1, { transition: "accept", label: "Accept", target: "accepted", input: {}, location: null }, database);
    api.removed = [1];
    api.jobs.delete(1);
    await pull(database);
    expect((await database.jobs.get(1))?.removedOnServer).toBe(true);
    await database.outbox.clear();
    await pull(database);
    expect(await database.jobs.get(1)).toBeUndefined();
  });

  it("says offline when the network is gone, and keeps what it had", async () => {
    const api = fakeApi();
    api.jobs.set(1, summary({ id: 1 }));
    await pull(database);
    vi.stubGlobal("fetch", () => Promise.reject(new TypeError("Failed to fetch")));
    expect(await pull(database)).toBe("offline");
    expect(await database.jobs.count()).toBe(1);
  });
});
