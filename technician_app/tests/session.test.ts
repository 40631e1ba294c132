import { beforeEach, describe, expect, it } from "vitest";
import { FieldworkDB, getMeta } from "../src/db/db";
import { queueTransition } from "../src/sync/outbox";
import { loadSession, refresh, resetSessionCache, signIn, signOut, type Session } from "../src/sync/session";

let database: FieldworkDB;
let counter = 0;

beforeEach(async () => {
  counter += 1;
  database = new FieldworkDB(`session-${counter}`);
  await database.open();
  resetSessionCache();
});

function pair(n: number) {
  return { access_token: `fwa_${n}`, refresh_token: `fwr_${n}`, token_type: "Bearer", expires_in: 900 };
}

function fakeAuth(answers: Record<string, () => Response>) {
  const calls: string[] = [];
  const fetchImpl = ((input: string) => {
    const path = input.replace("/api/mobile/v1", "");
    calls.push(path);
    const answer = answers[path];
    return Promise.resolve(answer ? answer() : new Response(null, { status: 404 }));
  }) as typeof fetch;
  return { fetchImpl, calls };
}

const json = (body: unknown, status = 200) => () =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

describe("the session", () => {
  it("refreshes once for many callers (the refresh token works once)", async () => {
    let n = 1;
    const auth = fakeAuth({ "/auth/token": json(pair(1)), "/auth/refresh": () => json(pair(++n))() });
    await signIn("anna", "pw", database, auth.fetchImpl);
    const results = await Promise.all([1, 2, 3].map(() => refresh(database, auth.fetchImpl)));
    expect(results).toEqual([true, true, true]);
    expect(auth.calls.filter((c) => c === "/auth/refresh")).toHaveLength(1);
    expect((await loadSession(database))?.accessToken).toBe("fwa_2");
  });

  it("marks the session expired when the refresh token is refused, keeping the queue", async () => {
    const auth = fakeAuth({ "/auth/token": json(pair(1)), "/auth/refresh": json({ code: "invalid_refresh_token" }, 401) });
    await signIn("anna", "pw", database, auth.fetchImpl);
    await queueTransition(1, { transition: "accept", label: "Accept", target: "accepted", input: {}, location: null }, database);
    expect(await refresh(database, auth.fetchImpl)).toBe(false);
    const session = await getMeta<Session>("session", database);
    expect(session).toMatchObject({ username: "anna", expired: true, accessToken: null });
    expect(await database.outbox.count()).toBe(1);
    // The same technician signs in again: the queue is still there.
    const again = fakeAuth({ "/auth/token": json(pair(5)) });
    await signIn("anna", "pw", database, again.fetchImpl);
    expect(await database.outbox.count()).toBe(1);
  });

  it("refuses another technician while unsent work is on the phone; sign-out clears it", async () => {
    const auth = fakeAuth({ "/auth/token": json(pair(1)), "/auth/logout": () => new Response(null, { status: 204 }) });
    await signIn("anna", "pw", database, auth.fetchImpl);
    await queueTransition(1, { transition: "accept", label: "Accept", target: "accepted", input: {}, location: null }, database);
    await expect(signIn("otto", "pw", database, auth.fetchImpl)).rejects.toMatchObject({ code: "other_user_queue" });
    await signOut(database, auth.fetchImpl);
    expect(auth.calls).toContain("/auth/logout");
    expect(await database.outbox.count()).toBe(0);
    expect(await loadSession(database)).toBeNull();
  });

  it("says why signing in failed with the server's code", async () => {
    const auth = fakeAuth({ "/auth/token": json({ code: "invalid_credentials", status: 401 }, 401) });
    await expect(signIn("anna", "bad", database, auth.fetchImpl)).rejects.toMatchObject({ code: "invalid_credentials" });
  });
});
