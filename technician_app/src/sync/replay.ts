// Replay: send the outbox, in order per job, and record each item's outcome.
//
// A refused item (the server said no, with its reason) holds the later items of the same
// job until the technician decides; other jobs go on. "Try again later" answers (network,
// 5xx, 429) leave the item waiting; a 401 refreshes the token once and, failing that,
// stops with the session expired — nothing is dropped.
import type { JobDetail, JobSummary, ProblemBody } from "../api/types";
import { db, type FieldworkDB, type JobRow, type OutboxItem, type Outcome } from "../db/db";
import { expectedVersionFor, heldBehind, nextToRun, verdictFor, type Verdict } from "./rules";
import { phoneTime } from "./time";

/** What came back for one request: `status` null when no answer arrived. */
export interface Answer<T = unknown> {
  status: number | null;
  data?: T;
  problem?: ProblemBody;
}

/** The network side of the replay (src/sync/transport.ts; fakes in the tests). */
export interface Transport {
  transition: (jobId: number, body: unknown, key: string) => Promise<Answer<JobDetail>>;
  report: (jobId: number, body: unknown, key: string) => Promise<Answer>;
  signature: (jobId: number, body: unknown, key: string) => Promise<Answer>;
  photo: (item: OutboxItem & { kind: "photo" }, key: string) => Promise<Answer>;
  job: (jobId: number) => Promise<Answer<JobDetail>>;
  /** Refresh the access token; false when the technician must sign in again. */
  reauthenticate: () => Promise<boolean>;
}

export interface ReplaySummary {
  sent: number;
  refused: number;
  /** Why the round stopped early: no network, or the sign-in expired. */
  stopped: "offline" | "auth" | null;
}

/** Return the list fields of a detail (what the day screen shows). */
export function summaryOf(detail: JobDetail): JobSummary {
  return {
    id: detail.id,
    number: detail.number,
    state: detail.state,
    state_label: detail.state_label,
    priority: detail.priority,
    title: detail.title,
    category: detail.category,
    customer_name: detail.customer_name,
    site: detail.site,
    scheduled_start_at: detail.scheduled_start_at,
    scheduled_end_at: detail.scheduled_end_at,
    deadlines: detail.deadlines,
    version: detail.version,
    updated_at: detail.updated_at,
  };
}

/** Store a job detail the server sent. */
export async function storeDetail(database: FieldworkDB, detail: JobDetail): Promise<void> {
  const existing = await database.jobs.get(detail.id);
  const row: JobRow = {
    ...(existing ?? {}),
    id: detail.id,
    summary: summaryOf(detail),
    detail,
    serverVersion: detail.version,
    syncedAt: phoneTime(),
    stale: false,
  };
  await database.jobs.put(row);
}

function outcomeOf(answer: Answer): Outcome {
  const problem = answer.problem;
  // 422 answers name the fields: say which, so the refusal can be acted on.
  const fields = Object.entries((problem?.errors ?? {}) as Record<string, unknown>)
    .map(([field, messages]) => `${field}: ${Array.isArray(messages) ? messages.join(" ") : JSON.stringify(messages)}`)
    .join("; ");
  const message = problem?.detail ?? problem?.title ?? "";
  return {
    status: answer.status ?? 0,
    code: problem?.code ?? `http_${answer.status ?? 0}`,
    message: fields ? `${message} (${fields})` : message,
    reasons: problem?.reasons ?? [],
    state: problem?.state ?? null,
    transitions: problem?.transitions ?? [],
  };
}

async function send(
  item: OutboxItem,
  transport: Transport,
  database: FieldworkDB,
): Promise<Answer> {
  if (item.kind === "photo") return transport.photo(item, item.key);
  const job = await database.jobs.get(item.jobId);
  if (item.kind === "transition" && item.sentBody === undefined && job?.stale && item.expectedVersion === null) {
    // Files or a report of ours went in since the last detail: read the version first.
    const fresh = await transport.job(item.jobId);
    if (fresh.status === 200 && fresh.data) await storeDetail(database, fresh.data);
    else if (fresh.status !== 404) return fresh;
  }
  let body = item.sentBody;
  if (body === undefined) {
    const current = await database.jobs.get(item.jobId);
    body =
      item.kind === "transition"
        ? {
            transition: item.payload.transition,
            expected_version: expectedVersionFor(item, current?.serverVersion ?? 0),
            captured_at: item.createdAt,
            input: item.payload.input,
            ...(item.payload.location ? { location: item.payload.location } : {}),
          }
        : item.kind === "signature"
          ? { ...item.payload, signed_at: item.createdAt }
          : item.payload;
  }
  // Kept before the request leaves: a retry after a lost answer sends the same bytes.
  await database.outbox.update(item.seq ?? -1, {
    sentBody: body,
    attempts: item.attempts + 1,
    lastAttemptAt: phoneTime(),
  });
  if (item.kind === "transition") return transport.transition(item.jobId, body, item.key);
  if (item.kind === "report") return transport.report(item.jobId, body, item.key);
  return transport.signature(item.jobId, body, item.key);
}

async function markSent(item: OutboxItem, answer: Answer, database: FieldworkDB): Promise<void> {
  await database.outbox.update(item.seq ?? -1, { status: "sent", sentAt: phoneTime(), outcome: null });
  if (item.kind === "transition" && answer.data) {
    await storeDetail(database, answer.data as JobDetail);
  } else if (await database.jobs.get(item.jobId)) {
    await database.jobs.update(item.jobId, { stale: true });
  }
  if (item.kind === "photo") {
    const photo = answer.data as { id?: number } | undefined;
    await database.photos.update(item.payload.clientId, { serverId: photo?.id ?? null });
  }
}

async function markRefused(item: OutboxItem, answer: Answer, database: FieldworkDB): Promise<void> {
  const outcome = outcomeOf(answer);
  await database.transaction("rw", database.outbox, database.jobs, async () => {
    await database.outbox.update(item.seq ?? -1, { status: "refused", outcome });
    const all = await database.outbox.where("jobId").equals(item.jobId).toArray();
    for (const later of heldBehind(all, item)) {
      if (later.seq !== undefined && later.status === "waiting") {
        await database.outbox.update(later.seq, { status: "held" });
      }
    }
    const job = await database.jobs.get(item.jobId);
    if (!job) return;
    const changes: Partial<JobRow> = {
      conflict: {
        at: phoneTime(),
        state: outcome.state ?? null,
        stateLabel: null,
        message: outcome.message,
        // Kept from the first refusal: what the technician saw before anything changed.
        before: job.conflict?.before ?? job.summary,
      },
    };
    if (answer.status === 409 && answer.problem?.current_version !== undefined) {
      // Someone else changed the job: show the truth the server sent at once.
      const state = answer.problem.state ?? job.summary.state;
      changes.serverVersion = answer.problem.current_version;
      changes.summary = { ...job.summary, state, version: answer.problem.current_version };
      if (job.detail) {
        changes.detail = {
          ...job.detail,
          state,
          version: answer.problem.current_version,
          transitions: answer.problem.transitions ?? job.detail.transitions,
        };
      }
      changes.stale = true;
    }
    if (answer.status === 404) changes.removedOnServer = true;
    await database.jobs.update(item.jobId, changes);
  });
}

/** Send what can be sent now; return what happened. */
export async function replay(transport: Transport, database: FieldworkDB = db): Promise<ReplaySummary> {
  const summary: ReplaySummary = { sent: 0, refused: 0, stopped: null };
  const skip = new Set<number>();
  let reauthenticated = false;
  for (;;) {
    const item = nextToRun(await database.outbox.toArray(), skip);
    if (!item) break;
    let answer: Answer;
    try {
      answer = await send(item, transport, database);
    } catch (error) {
      // The transport answers network failures itself (status null): a throw here is this
      // item's own fault (a damaged record). Refuse it and let the other jobs go on.
      answer = {
        status: 0,
        problem: { type: "about:blank", title: "Damaged", status: 0, code: "damaged_item", detail: String(error).slice(0, 200) },
      };
    }
    const verdict: Verdict = verdictFor(answer.status, answer.problem?.code);
    if (verdict === "sent") {
      await markSent(item, answer, database);
      summary.sent += 1;
    } else if (verdict === "refused") {
      await markRefused(item, answer, database);
      summary.refused += 1;
    } else if (verdict === "retry") {
      skip.add(item.jobId);
      await database.outbox.update(item.seq ?? -1, { outcome: outcomeOf(answer) });
    } else if (verdict === "auth") {
      if (!reauthenticated && (await transport.reauthenticate())) {
        reauthenticated = true;
        continue;
      }
      summary.stopped = "auth";
      break;
    } else {
      summary.stopped = "offline";
      break;
    }
  }
  return summary;
}
