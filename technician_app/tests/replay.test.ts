import { beforeEach, describe, expect, it } from "vitest";
import type { JobDetail } from "../src/api/types";
import { FieldworkDB, type OutboxItem } from "../src/db/db";
import { discardRefused, queueTransition, retryRefused, saveDraft } from "../src/sync/outbox";
import { replay, storeDetail, type Answer, type Transport } from "../src/sync/replay";
import { predictedState, wellFormed } from "../src/sync/rules";
import { detail } from "./fixtures";

let database: FieldworkDB;
let counter = 0;

beforeEach(async () => {
  counter += 1;
  database = new FieldworkDB(`test-${counter}`);
  await database.open();
  await storeDetail(database, detail({ id: 1, version: 3 }));
  await storeDetail(database, detail({ id: 2, version: 7, number: "WO-2026-000002" }));
});

interface Call {
  kind: string;
  jobId: number;
  body: unknown;
  key: string;
}

/** A fake server: versions go up by one a step; `answers` overrides answers in order. */
function fakeServer(answers: ((call: Call) => Answer | undefined)[] = []) {
  const calls: Call[] = [];
  const versions = new Map<number, number>([
    [1, 3],
    [2, 7],
  ]);
  const seen = new Map<string, Answer>();
  let refreshes = 0;
  const answer = (call: Call): Answer => {
    calls.push(call);
    const replayed = seen.get(call.key);
    if (replayed) return replayed;
    for (const rule of answers) {
      const found = rule(call);
      if (found) return found;
    }
    if (call.kind === "transition") {
      const body = call.body as { expected_version: number; transition: string };
      const current = versions.get(call.jobId) ?? 1;
      if (body.expected_version !== current) {
        return { status: 409, problem: { type: "x", title: "Conflict", status: 409, code: "version_conflict", current_version: current, state: "assigned", transitions: [] } };
      }
      versions.set(call.jobId, current + 1);
      const result = { status: 200, data: detail({ id: call.jobId, version: current + 1, state: body.transition }) };
      seen.set(call.key, result);
      return result;
    }
    const result = { status: 200, data: {} };
    seen.set(call.key, result);
    return result;
  };
  const transport: Transport = {
    transition: (jobId, body, key) => Promise.resolve(answer({ kind: "transition", jobId, body, key }) as Answer<JobDetail>),
    report: (jobId, body, key) => Promise.resolve(answer({ kind: "report", jobId, body, key })),
    signature: (jobId, body, key) => Promise.resolve(answer({ kind: "signature", jobId, body, key })),
    photo: (item, key) => Promise.resolve(answer({ kind: "photo", jobId: item.jobId, body: item.payload, key })),
    job: (jobId) => Promise.resolve({ status: 200, data: detail({ id: jobId, version: versions.get(jobId) ?? 1 }) }),
    reauthenticate: () => {
      refreshes += 1;
      return Promise.resolve(true);
    },
  };
  return { transport, calls, versions, refreshes: () => refreshes };
}

const step = (transition: string, target: string) => ({ transition, label: transition, target, input: {}, location: null });

async function statuses(): Promise<string[]> {
  return (await database.outbox.orderBy("seq").toArray()).map((i: OutboxItem) => `${i.jobId}:${i.kind === "transition" ? i.payload.transition : i.kind}:${i.status}`);
}

describe("replay", () => {
  it("sends a whole offline day once, in order, each step on the version the last one gave", async () => {
    await queueTransition(1, step("accept", "accepted"), database);
    await queueTransition(1, step("start_travel", "en_route"), database);
    await saveDraft(1, (d) => ({ ...d, workNotes: "fixed" }), database);
    await queueTransition(1, step("arrive", "on_site"), database);
    const server = fakeServer();
    const result = await replay(server.transport, database);
    expect(result).toEqual({ sent: 4, refused: 0, stopped: null });
    expect(server.calls.map((c) => c.kind)).toEqual(["transition", "transition", "report", "transition"]);
    const versions = server.calls.filter((c) => c.kind === "transition").map((c) => (c.body as { expected_version: number }).expected_version);
    expect(versions).toEqual([3, 4, 5]);
    expect(server.calls[0]?.body).toMatchObject({ captured_at: expect.stringMatching(/T\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$/) as unknown });
    expect(await statuses()).toEqual(["1:accept:sent", "1:start_travel:sent", "1:report:sent", "1:arrive:sent"]);
    // Nothing goes twice.
    expect((await replay(server.transport, database)).sent).toBe(0);
  });

  it("keeps everything when the network is gone and resends the same body under the same key", async () => {
    await queueTransition(1, step("accept", "accepted"), database);
    let cut = true;
    const server = fakeServer([() => (cut ? { status: null } : undefined)]);
    expect((await replay(server.transport, database)).stopped).toBe("offline");
    expect(await statuses()).toEqual(["1:accept:waiting"]);
    cut = false;
    // Meanwhile a sync moved the job's version on: the retry still sends the first body.
    await database.jobs.update(1, { serverVersion: 99 });
    await replay(server.transport, database);
    expect(server.calls).toHaveLength(2);
    expect(server.calls[0]?.key).toBe(server.calls[1]?.key);
    expect(server.calls[0]?.body).toEqual(server.calls[1]?.body);
    expect(await statuses()).toEqual(["1:accept:sent"]);
  });

  it("applies a step once when its answer was lost", async () => {
    await queueTransition(1, step("accept", "accepted"), database);
    let lose = true;
    const server = fakeServer();
    const flaky: Transport = {
      ...server.transport,
      transition: async (jobId, body, key) => {
        const answer = await server.transport.transition(jobId, body, key);
        if (lose) {
          lose = false;
          return { status: null };
        }
        return answer;
      },
    };
    await replay(flaky, database);
    await replay(flaky, database);
    expect(server.versions.get(1)).toBe(4);
    expect(await statuses()).toEqual(["1:accept:sent"]);
  });

  it("shows a conflict, holds that job's later steps and sends the other job's", async () => {
    await queueTransition(1, step("accept", "accepted"), database);
    await queueTransition(2, step("accept", "accepted"), database);
    await queueTransition(1, step("arrive", "on_site"), database);
    await queueTransition(2, step("arrive", "on_site"), database);
    const server = fakeServer();
    server.versions.set(1, 5); // the dispatcher reassigned job 1 meanwhile
    const result = await replay(server.transport, database);
    expect(result).toEqual({ sent: 2, refused: 1, stopped: null });
    expect(await statuses()).toEqual(["1:accept:refused", "2:accept:sent", "1:arrive:held", "2:arrive:sent"]);
    const job = await database.jobs.get(1);
    expect(job?.serverVersion).toBe(5);
    expect(job?.conflict?.state).toBe("assigned");
    const refused = (await database.outbox.orderBy("seq").first())!;
    expect(refused.outcome).toMatchObject({ status: 409, code: "version_conflict" });
  });

  it("sends refused steps again on the new version, with new keys, when the technician asks", async () => {
    await queueTransition(1, step("accept", "accepted"), database);
    await queueTransition(1, step("arrive", "on_site"), database);
    const server = fakeServer();
    server.versions.set(1, 5);
    await replay(server.transport, database);
    const before = (await database.outbox.orderBy("seq").first())!.key;
    await retryRefused(1, database);
    await replay(server.transport, database);
    expect(await statuses()).toEqual(["1:accept:sent", "1:arrive:sent"]);
    const after = (await database.outbox.orderBy("seq").first())!;
    expect(after.key).not.toBe(before);
    expect(after.previousKeys).toEqual([before]);
  });

  it("lets the technician discard refused steps", async () => {
    await queueTransition(1, step("accept", "accepted"), database);
    const server = fakeServer([() => ({ status: 422, problem: { type: "x", title: "Refused", status: 422, code: "transition_refused", detail: "Not yours", reasons: [{ code: "guard.is_assignee", message: "Not yours", field: null }] } })]);
    await replay(server.transport, database);
    const refused = (await database.outbox.toArray())[0]!;
    expect(refused.outcome?.reasons?.[0]?.message).toBe("Not yours");
    await discardRefused(1, database);
    expect(await database.outbox.count()).toBe(0);
  });

  it("refreshes the token on a 401 and goes on; stops with the queue intact if it cannot", async () => {
    await queueTransition(1, step("accept", "accepted"), database);
    let first = true;
    const server = fakeServer([
      () => {
        if (!first) return undefined;
        first = false;
        return { status: 401 };
      },
    ]);
    expect((await replay(server.transport, database)).sent).toBe(1);
    expect(server.refreshes()).toBe(1);

    await queueTransition(2, step("accept", "accepted"), database);
    const expired = fakeServer([() => ({ status: 401 })]);
    expired.transport.reauthenticate = () => Promise.resolve(false);
    expect((await replay(expired.transport, database)).stopped).toBe("auth");
    expect((await statuses()).at(-1)).toBe("2:accept:waiting");
  });

  it("reads the job's version again before a step that follows files or a report", async () => {
    await queueTransition(1, step("accept", "accepted"), database);
    await saveDraft(1, (d) => ({ ...d, workNotes: "n" }), database);
    await queueTransition(1, step("arrive", "on_site"), database);
    const server = fakeServer();
    const original = server.transport.report;
    server.transport.report = async (jobId, body, key) => {
      server.versions.set(jobId, (server.versions.get(jobId) ?? 0) + 1); // a save that bumps it
      return original(jobId, body, key);
    };
    const result = await replay(server.transport, database);
    expect(result.refused).toBe(0);
    expect(await statuses()).toEqual(["1:accept:sent", "1:report:sent", "1:arrive:sent"]);
  });
});

describe("a damaged record", () => {
  it("is refused on its own and never stops the other jobs", async () => {
    await queueTransition(1, step("accept", "accepted"), database);
    await queueTransition(2, step("accept", "accepted"), database);
    const first = (await database.outbox.orderBy("seq").first())!;
    // Tampered with: the payload is gone.
    await database.outbox.put({ ...first, payload: null } as unknown as OutboxItem);
    const server = fakeServer();
    const result = await replay(server.transport, database);
    expect(result).toEqual({ sent: 1, refused: 1, stopped: null });
    expect(await statuses().catch(() => null)).toBeNull(); // the damaged one has no step name
    const items = await database.outbox.orderBy("seq").toArray();
    expect(items.map((i) => i.status)).toEqual(["refused", "sent"]);
    expect(items[0]?.outcome?.code).toBe("damaged_item");
    expect(wellFormed(items[0]!)).toBe(false);
    expect(wellFormed(items[1]!)).toBe(true);
    expect(predictedState("assigned", items)).toBe("assigned");
    await discardRefused(1, database);
    expect(await database.outbox.count()).toBe(1);
  });
});

describe("the outbox", () => {
  it("records the version the technician saw, and chains steps taken after queued ones", async () => {
    const first = await queueTransition(1, step("accept", "accepted"), database);
    const second = await queueTransition(1, step("start_travel", "en_route"), database);
    expect(first.expectedVersion).toBe(3);
    expect(second.expectedVersion).toBeNull();
    expect(first.key).not.toBe(second.key);
    expect(first.key).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("folds report saves the server never saw into one item", async () => {
    await saveDraft(1, (d) => ({ ...d, workNotes: "a" }), database);
    await saveDraft(1, (d) => ({ ...d, parts: [{ part_number: "F-1", description: null, quantity: 2 }] }), database);
    const items = await database.outbox.toArray();
    expect(items).toHaveLength(1);
    expect(items[0]?.payload).toMatchObject({ work_notes: "a", parts: [{ part_number: "F-1", quantity: 2 }] });
    await queueTransition(1, step("complete", "completed"), database);
    await saveDraft(1, (d) => ({ ...d, workNotes: "b" }), database);
    expect(await database.outbox.count()).toBe(3);
  });
});
