// The app's rules as small pure functions: no storage, no network, no clock of their own.
import type { ChecklistItem, InputField, JobSummary, TransitionOption } from "../api/types";
import type { DraftRow, OutboxItem } from "../db/db";

// --- The queue ---------------------------------------------------------------------------

/**
 * Return whether a stored item has the shape the app wrote (a damaged or tampered record is
 * shown and refused, never trusted).
 */
export function wellFormed(item: OutboxItem): boolean {
  const payload: unknown = item.payload;
  if (typeof payload !== "object" || payload === null) return false;
  if (item.kind === "transition") {
    const step = payload as Record<string, unknown>;
    return typeof step.transition === "string" && (step.target === null || typeof step.target === "string");
  }
  return true;
}

/** Return the items still to do something about (not sent), in queue order. */
export function unsent(items: readonly OutboxItem[]): OutboxItem[] {
  return items.filter((item) => item.status !== "sent").sort(bySeq);
}

function bySeq(a: OutboxItem, b: OutboxItem): number {
  return (a.seq ?? 0) - (b.seq ?? 0);
}

/**
 * Return the item to send next: the earliest waiting item whose job has nothing unsent
 * before it. A job whose first unsent item was refused is stuck until the technician
 * decides; the other jobs go on. Jobs in `skip` (they failed this round) are left out.
 */
export function nextToRun(
  items: readonly OutboxItem[],
  skip: ReadonlySet<number> = new Set(),
): OutboxItem | null {
  const seen = new Set<number>();
  for (const item of unsent(items)) {
    if (seen.has(item.jobId)) continue;
    seen.add(item.jobId);
    if (item.status === "waiting" && !skip.has(item.jobId)) return item;
  }
  return null;
}

/** Return the jobs' items queued after `refused` that must wait for the technician. */
export function heldBehind(items: readonly OutboxItem[], refused: OutboxItem): OutboxItem[] {
  return unsent(items).filter(
    (item) => item.jobId === refused.jobId && (item.seq ?? 0) > (refused.seq ?? 0),
  );
}

/** Count what the technician still has to send (waiting, refused and held items). */
export function unsentCount(items: readonly OutboxItem[]): number {
  return unsent(items).length;
}

/**
 * Return the version to send as `expected_version` for a queued step: the one recorded
 * when it was taken, or, for a step taken right after another queued one, the version
 * the server gave back for that one (kept on the job).
 */
export function expectedVersionFor(item: OutboxItem, jobVersion: number): number {
  return item.expectedVersion ?? jobVersion;
}

/** How a server answer to a queued item is handled. */
export type Verdict = "sent" | "refused" | "retry" | "auth" | "offline";

/** Classify an answer: `null` status means the request never got an answer. */
export function verdictFor(status: number | null, code?: string): Verdict {
  if (status === null) return "offline";
  if (status >= 200 && status < 300) return "sent";
  if (status === 401) return "auth";
  // A concurrent duplicate of ours is still running: ask again later.
  if (status === 409 && code === "idempotency_in_progress") return "retry";
  if (status === 408 || status === 425 || status === 429 || status >= 500) return "retry";
  return "refused";
}

// --- State the phone predicts --------------------------------------------------------------

/**
 * The technician's steps of Fieldwork's field workflows, by state: what the phone offers
 * while its own queued steps have moved the job beyond what the server last described.
 * (The API describes only the steps of the job's current state; see the issue note.)
 */
export const FIELD_STEPS: Record<string, readonly { name: string; target: string }[]> = {
  assigned: [
    { name: "accept", target: "accepted" },
    { name: "decline", target: "declined" },
  ],
  accepted: [
    { name: "start_travel", target: "en_route" },
    { name: "arrive", target: "on_site" },
  ],
  en_route: [{ name: "arrive", target: "on_site" }],
  on_site: [{ name: "start_work", target: "in_progress" }],
  in_progress: [
    { name: "put_on_hold", target: "on_hold" },
    { name: "complete", target: "completed" },
  ],
  on_hold: [{ name: "resume_work", target: "in_progress" }],
};

/** What the steps ask for when the server has not described them yet. */
export const FIELD_INPUT: Record<string, InputField[]> = {
  decline: [
    { name: "reason", type: "text", required: true, max_length: 500, values: [], label: "" },
  ],
  put_on_hold: [
    {
      name: "reason",
      type: "enum",
      required: true,
      max_length: null,
      values: ["waiting_for_parts", "waiting_for_customer", "waiting_for_access", "other"],
      label: "",
    },
    { name: "note", type: "text", required: false, max_length: 2000, values: [], label: "" },
  ],
  complete: [
    { name: "resolution_code", type: "string", required: true, max_length: 32, values: [], label: "" },
    { name: "resolution_note", type: "text", required: false, max_length: 4000, values: [], label: "" },
  ],
};

/** Return the state the job is in once the queued steps are applied. */
export function predictedState(serverState: string, queued: readonly OutboxItem[]): string {
  let state = serverState;
  for (const item of queued) {
    // Refused and held steps did not happen: the job stays where the server has it.
    if (item.kind === "transition" && item.status === "waiting" && wellFormed(item) && item.payload.target) {
      state = item.payload.target;
    }
  }
  return state;
}

/** Guards the technician satisfies on the phone; the rest only the office can change. */
export const FIXABLE_ON_PHONE = new Set([
  "guard.photos_at_least",
  "guard.checklist_complete",
  "guard.signature_present",
  "guard.field_present",
  "guard.parts_recorded",
]);

/** A step as the job screen offers it. */
export interface Step {
  name: string;
  label: string | null;
  target: string | null;
  enabled: boolean;
  reasons: { code: string; message: string | null; field?: string | null }[];
  input: InputField[];
  /** True when the server described this step; false when the phone predicts it. */
  described: boolean;
}

/**
 * Return the steps to offer: the server's own list while nothing of ours is queued for
 * the job, else the field steps of the predicted state.
 */
export function stepsFor(
  serverState: string,
  serverTransitions: readonly TransitionOption[] | null,
  queued: readonly OutboxItem[],
): Step[] {
  const pending = queued.filter((item) => item.kind === "transition" && item.status === "waiting" && wellFormed(item));
  if (pending.length === 0 && serverTransitions) {
    return serverTransitions
      .filter((option) => technicianStep(option.name))
      .map((option) => ({
        name: option.name,
        label: option.label,
        target: option.target,
        // What the phone itself can fix (photos, checklist, signature, fields) is checked
        // again on the phone when tapped: the server's answer was about the job back then.
        enabled: option.enabled || option.reasons.every((reason) => FIXABLE_ON_PHONE.has(reason.code)),
        reasons: option.reasons.filter((reason) => !FIXABLE_ON_PHONE.has(reason.code)),
        input: option.input,
        described: true,
      }));
  }
  const state = predictedState(serverState, queued);
  return (FIELD_STEPS[state] ?? []).map((step) => {
    const known = serverTransitions?.find((option) => option.name === step.name);
    return {
      name: step.name,
      label: known?.label ?? null,
      target: known?.target ?? step.target,
      enabled: true,
      reasons: [],
      input: known?.input ?? FIELD_INPUT[step.name] ?? [],
      described: false,
    };
  });
}

const TECHNICIAN_STEPS = new Set(
  Object.values(FIELD_STEPS).flatMap((steps) => steps.map((step) => step.name)),
);

/** Return whether a step is one a technician takes on the phone. */
export function technicianStep(name: string): boolean {
  return TECHNICIAN_STEPS.has(name);
}

/** Return whether a step may be taken with no network (queued, sent later). */
export function canRunOffline(step: Pick<Step, "name" | "enabled">): boolean {
  return step.enabled && technicianStep(step.name);
}

// --- Checklist and completion --------------------------------------------------------------

/**
 * Return whether a checklist answer counts as answered, by the API's rule (ChecklistAnswer
 * in the OpenAPI document): `ok` is true or false, or `answer` is a text that is not blank.
 */
export function isAnswered(
  answer: { answer?: string | null; ok?: boolean | null } | undefined | null,
): boolean {
  if (typeof answer?.ok === "boolean") return true;
  return typeof answer?.answer === "string" && answer.answer.trim() !== "";
}

/** Return the checklist items still unanswered, the phone's draft first, the server's next. */
export function checklistLeft(
  items: readonly ChecklistItem[],
  draft: DraftRow["checklist"] | undefined,
): ChecklistItem[] {
  return items.filter((item) => !isAnswered(draft?.[item.key] ?? item));
}

/** What the phone knows when the technician taps "complete". */
export interface CompletionFacts {
  checklist: readonly ChecklistItem[];
  draft: DraftRow | undefined;
  photoCount: number;
  photosRequired: number;
  customerSignatures: number;
  resolutionRequired: boolean;
  resolutionCode: string;
}

export interface Blocker {
  code: string;
  params: Record<string, number | string>;
}

/** Return why completion must be refused, with the server's reason codes (empty: go). */
export function completionBlockers(facts: CompletionFacts): Blocker[] {
  const blockers: Blocker[] = [];
  if (facts.photoCount < facts.photosRequired) {
    blockers.push({
      code: "guard.photos_at_least",
      params: { n: facts.photosRequired, count: facts.photoCount },
    });
  }
  const left = checklistLeft(facts.checklist, facts.draft?.checklist).length;
  if (left > 0) {
    blockers.push({
      code: "guard.checklist_complete",
      params: { left, total: facts.checklist.length },
    });
  }
  if (facts.customerSignatures < 1) blockers.push({ code: "guard.signature_present", params: {} });
  if (facts.resolutionRequired && facts.resolutionCode.trim() === "") {
    blockers.push({ code: "guard.field_present", params: { field: "resolution_code" } });
  }
  return blockers;
}

// --- Photos ------------------------------------------------------------------------------

/** Return the size to scale an image to so that its long side is at most `max` pixels. */
export function fitWithin(
  width: number,
  height: number,
  max = 1600,
): { width: number; height: number } {
  if (width <= 0 || height <= 0) throw new RangeError("an image has a positive size");
  const long = Math.max(width, height);
  if (long <= max) return { width, height };
  const scale = max / long;
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

// --- My day ------------------------------------------------------------------------------

const PRIORITY_RANK: Record<string, number> = { emergency: 0, high: 1, normal: 2, low: 3 };
const DONE_STATES = new Set(["completed", "closed", "cancelled", "declined"]);

export interface DayPlan {
  today: JobSummary[];
  unscheduled: JobSummary[];
  upcoming: JobSummary[];
  recent: JobSummary[];
}

/** Return whether a state means the technician's part is over. */
export function isDone(state: string): boolean {
  return DONE_STATES.has(state);
}

/** Return the local calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function localDay(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(instant);
}

/**
 * Sort the jobs into the day: today's open jobs, emergencies first and then in planned
 * order (start time); open jobs without a time; upcoming; recent (done), newest first.
 */
export function planDay(
  jobs: readonly JobSummary[],
  now: Date,
  timeZone: string,
  stateOf: (job: JobSummary) => string = (job) => job.state,
): DayPlan {
  const today = localDay(now, timeZone);
  const plan: DayPlan = { today: [], unscheduled: [], upcoming: [], recent: [] };
  for (const job of jobs) {
    const start = job.scheduled_start_at ? new Date(job.scheduled_start_at) : null;
    if (isDone(stateOf(job))) plan.recent.push(job);
    else if (start === null) plan.unscheduled.push(job);
    else if (localDay(start, timeZone) > today) plan.upcoming.push(job);
    else plan.today.push(job);
  }
  const byPlan = (a: JobSummary, b: JobSummary) =>
    (PRIORITY_RANK[a.priority] ?? 9) - (PRIORITY_RANK[b.priority] ?? 9) ||
    (a.scheduled_start_at ?? "").localeCompare(b.scheduled_start_at ?? "") ||
    a.id - b.id;
  plan.today.sort(byPlan);
  plan.unscheduled.sort(byPlan);
  plan.upcoming.sort(
    (a, b) => (a.scheduled_start_at ?? "").localeCompare(b.scheduled_start_at ?? "") || a.id - b.id,
  );
  plan.recent.sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  return plan;
}

/** The promise that falls due next for a job in a state, and how far away it is. */
export interface DeadlineClock {
  kind: "respond_by" | "arrive_by" | "resolve_by";
  at: string;
  minutes: number;
}

/** Return the deadline the technician is racing now (null when none applies). */
export function deadlineClock(job: JobSummary, state: string, now: Date): DeadlineClock | null {
  const order: DeadlineClock["kind"][] =
    state === "assigned"
      ? ["respond_by", "arrive_by", "resolve_by"]
      : state === "accepted" || state === "en_route"
        ? ["arrive_by", "resolve_by"]
        : ["resolve_by"];
  if (isDone(state)) return null;
  for (const kind of order) {
    const at = job.deadlines[kind];
    if (at) return { kind, at, minutes: Math.round((Date.parse(at) - now.getTime()) / 60000) };
  }
  return null;
}

// --- What changed ---------------------------------------------------------------------------

export interface Change {
  field: "state" | "window" | "priority" | "title" | "site";
  before: string;
  after: string;
}

function windowOf(job: JobSummary): string {
  return `${job.scheduled_start_at ?? ""}/${job.scheduled_end_at ?? ""}`;
}

/** Return what differs between the job the phone showed and the job the server has now. */
export function changesBetween(before: JobSummary, after: JobSummary): Change[] {
  const changes: Change[] = [];
  if (before.state !== after.state) changes.push({ field: "state", before: before.state, after: after.state });
  if (windowOf(before) !== windowOf(after)) {
    changes.push({ field: "window", before: windowOf(before), after: windowOf(after) });
  }
  if (before.priority !== after.priority) {
    changes.push({ field: "priority", before: before.priority, after: after.priority });
  }
  if (before.title !== after.title) changes.push({ field: "title", before: before.title, after: after.title });
  const site = (job: JobSummary) => job.site?.address ?? job.site?.district ?? "";
  if (site(before) !== site(after)) changes.push({ field: "site", before: site(before), after: site(after) });
  return changes;
}

// --- Reports ------------------------------------------------------------------------------

/**
 * Return the queued report item a new save may overwrite in place: the last one of the
 * job, still waiting and never tried (the server never saw its key). Else a new item.
 */
export function reportToReplace(items: readonly OutboxItem[], jobId: number): OutboxItem | null {
  const last = unsent(items)
    .filter((item) => item.jobId === jobId)
    .at(-1);
  return last && last.kind === "report" && last.status === "waiting" && last.attempts === 0
    ? last
    : null;
}
