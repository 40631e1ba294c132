import { describe, expect, it } from "vitest";
import {
  changesBetween,
  checklistLeft,
  completionBlockers,
  deadlineClock,
  fitWithin,
  heldBehind,
  isAnswered,
  nextToRun,
  planDay,
  predictedState,
  reportToReplace,
  stepsFor,
  unsentCount,
  verdictFor,
  canRunOffline,
} from "../src/sync/rules";
import { report, summary, transition } from "./fixtures";

describe("which queued item runs next", () => {
  it("takes the queue in order, one job's items one after the other", () => {
    const a1 = transition(1, "accept", "accepted");
    const b1 = transition(2, "accept", "accepted");
    const a2 = transition(1, "start_travel", "en_route");
    expect(nextToRun([a2, b1, a1])).toBe(a1);
    expect(nextToRun([{ ...a1, status: "sent" }, a2, b1])).toBe(b1);
    expect(nextToRun([{ ...a1, status: "sent" }, a2, { ...b1, status: "sent" }])).toBe(a2);
  });

  it("never lets a refused item block another job", () => {
    const a1 = transition(1, "accept", "accepted", { status: "refused" });
    const a2 = transition(1, "arrive", "on_site", { status: "held" });
    const b1 = transition(2, "accept", "accepted");
    expect(nextToRun([a1, a2, b1])).toBe(b1);
    expect(nextToRun([a1, a2])).toBeNull();
  });

  it("skips the jobs that failed this round", () => {
    const a1 = transition(1, "accept", "accepted");
    const b1 = transition(2, "accept", "accepted");
    expect(nextToRun([a1, b1], new Set([1]))).toBe(b1);
  });

  it("holds only the later items of the refused item's job", () => {
    const a1 = transition(1, "accept", "accepted");
    const a2 = transition(1, "arrive", "on_site");
    const b1 = transition(2, "accept", "accepted");
    const a3 = report(1);
    expect(heldBehind([a1, a2, b1, a3], a1)).toEqual([a2, a3]);
    expect(unsentCount([a1, { ...a2, status: "sent" }, b1])).toBe(2);
  });
});

describe("answers from the server", () => {
  it("are sent, refused, retried later, or need a sign-in", () => {
    expect(verdictFor(200)).toBe("sent");
    expect(verdictFor(201)).toBe("sent");
    expect(verdictFor(null)).toBe("offline");
    expect(verdictFor(401)).toBe("auth");
    expect(verdictFor(409, "version_conflict")).toBe("refused");
    expect(verdictFor(409, "idempotency_in_progress")).toBe("retry");
    expect(verdictFor(422, "transition_refused")).toBe("refused");
    expect(verdictFor(404)).toBe("refused");
    expect(verdictFor(429)).toBe("retry");
    expect(verdictFor(503)).toBe("retry");
  });
});

describe("steps on the phone", () => {
  it("predicts the state after the queued steps", () => {
    const queued = [transition(1, "accept", "accepted"), transition(1, "start_travel", "en_route")];
    expect(predictedState("assigned", queued)).toBe("en_route");
    expect(predictedState("assigned", [{ ...queued[0]!, status: "sent" }])).toBe("assigned");
  });

  it("offers the server's steps while nothing is queued, the field steps after", () => {
    const server = [
      { name: "accept", label: "Accept", target: "accepted", enabled: true, reasons: [], input: [] },
      { name: "cancel", label: "Cancel", target: "cancelled", enabled: false, reasons: [], input: [] },
    ];
    expect(stepsFor("assigned", server, []).map((s) => s.name)).toEqual(["accept"]);
    const queued = [transition(1, "accept", "accepted")];
    const predicted = stepsFor("assigned", server, queued);
    expect(predicted.map((s) => s.name)).toEqual(["start_travel", "arrive"]);
    expect(predicted.every((s) => !s.described && canRunOffline(s))).toBe(true);
  });

  it("lets the phone check again what it can fix, not what only the office can", () => {
    const complete = {
      name: "complete",
      label: "Complete",
      target: "completed",
      enabled: false,
      reasons: [{ code: "guard.photos_at_least", message: "At least 1 photo", field: null }],
      input: [],
    };
    expect(stepsFor("in_progress", [complete], [])[0]?.enabled).toBe(true);
    const notYours = { ...complete, reasons: [{ code: "guard.is_assignee", message: "Not yours", field: null }] };
    expect(stepsFor("in_progress", [notYours], [])[0]?.enabled).toBe(false);
  });
});

describe("the checklist and completion", () => {
  const items = [
    { key: "power", label: "Power off", answer: null, ok: null },
    { key: "filter", label: "Filter clean", answer: "done", ok: true },
  ];

  it("counts an item answered by a tick, a cross or a text that is not blank (the API's rule)", () => {
    expect(isAnswered({ answer: "OK" })).toBe(true);
    expect(isAnswered({ ok: true })).toBe(true);
    expect(isAnswered({ ok: false, answer: null })).toBe(true);
    expect(isAnswered({ answer: "  ", ok: null })).toBe(false);
    expect(isAnswered({ answer: null })).toBe(false);
    expect(isAnswered(undefined)).toBe(false);
    expect(checklistLeft(items, undefined).map((i) => i.key)).toEqual(["power"]);
    expect(checklistLeft(items, { power: { answer: null, ok: null } }).map((i) => i.key)).toEqual(["power"]);
    expect(checklistLeft(items, { power: { answer: null, ok: true } })).toEqual([]);
  });

  it("refuses completion for the server's reasons", () => {
    const facts = {
      checklist: items,
      draft: undefined,
      photoCount: 0,
      photosRequired: 1,
      customerSignatures: 0,
      resolutionRequired: true,
      resolutionCode: "",
    };
    expect(completionBlockers(facts).map((b) => b.code)).toEqual([
      "guard.photos_at_least",
      "guard.checklist_complete",
      "guard.signature_present",
      "guard.field_present",
    ]);
    expect(completionBlockers(facts)[1]?.params).toEqual({ left: 1, total: 2 });
    const ready = {
      ...facts,
      photoCount: 1,
      customerSignatures: 1,
      resolutionCode: "repaired",
      draft: { jobId: 1, checklist: { power: { answer: "OK", ok: true } }, parts: [], workNotes: "", labourMinutes: null, resolutionCode: "repaired", updatedAt: "" },
    };
    expect(completionBlockers(ready)).toEqual([]);
  });
});

describe("photo sizing", () => {
  it("scales the long side down to 1600 px and keeps the aspect", () => {
    expect(fitWithin(4000, 3000)).toEqual({ width: 1600, height: 1200 });
    expect(fitWithin(3000, 4000)).toEqual({ width: 1200, height: 1600 });
    expect(fitWithin(1200, 800)).toEqual({ width: 1200, height: 800 });
    expect(fitWithin(10000, 3)).toEqual({ width: 1600, height: 1 });
    expect(() => fitWithin(0, 10)).toThrow(RangeError);
  });
});

describe("my day", () => {
  const now = new Date("2026-03-02T02:00:00Z"); // 10:00 in Shanghai
  const zone = "Asia/Shanghai";

  it("puts today's emergencies first, then the plan in time order", () => {
    const jobs = [
      summary({ id: 1, scheduled_start_at: "2026-03-02T06:00:00Z" }),
      summary({ id: 2, scheduled_start_at: "2026-03-02T03:00:00Z" }),
      summary({ id: 3, priority: "emergency", scheduled_start_at: "2026-03-02T07:00:00Z" }),
      summary({ id: 4, scheduled_start_at: "2026-03-03T01:00:00Z" }),
      summary({ id: 5, state: "completed" }),
      summary({ id: 6 }),
      summary({ id: 7, scheduled_start_at: "2026-03-02T17:00:00Z" }), // 01:00 tomorrow local
    ];
    const plan = planDay(jobs, now, zone);
    expect(plan.today.map((j) => j.id)).toEqual([3, 2, 1]);
    expect(plan.upcoming.map((j) => j.id)).toEqual([7, 4]);
    expect(plan.unscheduled.map((j) => j.id)).toEqual([6]);
    expect(plan.recent.map((j) => j.id)).toEqual([5]);
  });

  it("shows the deadline the technician races now", () => {
    const job = summary({
      deadlines: {
        respond_by: "2026-03-02T02:15:00Z",
        arrive_by: "2026-03-02T04:00:00Z",
        resolve_by: "2026-03-02T01:30:00Z",
      },
    });
    expect(deadlineClock(job, "assigned", now)).toEqual({ kind: "respond_by", at: "2026-03-02T02:15:00Z", minutes: 15 });
    expect(deadlineClock(job, "en_route", now)?.kind).toBe("arrive_by");
    expect(deadlineClock(job, "in_progress", now)?.minutes).toBe(-30);
    expect(deadlineClock(job, "completed", now)).toBeNull();
  });
});

describe("what changed", () => {
  it("lists the fields that differ between what the phone showed and the server's job", () => {
    const before = summary({ scheduled_start_at: "2026-03-02T02:00:00Z", scheduled_end_at: "2026-03-02T03:00:00Z" });
    const after = summary({
      state: "cancelled",
      priority: "emergency",
      scheduled_start_at: "2026-03-02T04:00:00Z",
      scheduled_end_at: "2026-03-02T05:00:00Z",
    });
    expect(changesBetween(before, after).map((c) => c.field)).toEqual(["state", "window", "priority"]);
    expect(changesBetween(before, before)).toEqual([]);
  });
});

describe("report saves", () => {
  it("overwrite only a queued report the server never saw", () => {
    const untried = report(1);
    expect(reportToReplace([untried], 1)).toBe(untried);
    expect(reportToReplace([{ ...untried, attempts: 1 }], 1)).toBeNull();
    expect(reportToReplace([untried, transition(1, "complete", "completed")], 1)).toBeNull();
    expect(reportToReplace([untried], 2)).toBeNull();
  });
});
