// Every change the technician makes goes here first: an outbox item in IndexedDB with its
// Idempotency-Key (made once), the job's version and the phone's time. src/sync/replay.ts
// sends the items later, in order per job.
import { db, type DraftRow, type FieldworkDB, type OutboxItem, type PhotoRow, type ReportPayload, type TransitionPayload } from "../db/db";
import { reportToReplace, wellFormed } from "./rules";
import { newId, phoneTime } from "./time";

async function expectedVersion(database: FieldworkDB, jobId: number): Promise<number | null> {
  // Right after another queued step of the same job, the version is the one the server
  // will give back for that step: decided when it is sent.
  const queuedStep = await database.outbox
    .where("jobId")
    .equals(jobId)
    .filter((item) => item.kind === "transition" && item.status !== "sent")
    .count();
  if (queuedStep > 0) return null;
  const job = await database.jobs.get(jobId);
  return job?.serverVersion ?? null;
}

/** Queue a workflow step (accept, arrive, complete …) taken now. */
export async function queueTransition(
  jobId: number,
  payload: TransitionPayload,
  database: FieldworkDB = db,
  now: Date = new Date(),
): Promise<OutboxItem> {
  return database.transaction("rw", database.outbox, database.jobs, async () => {
    const item: OutboxItem = {
      kind: "transition",
      key: newId(),
      jobId,
      createdAt: phoneTime(now),
      status: "waiting",
      expectedVersion: await expectedVersion(database, jobId),
      attempts: 0,
      payload,
    };
    item.seq = await database.outbox.add(item);
    return item;
  });
}

/** Add the phone's position to a queued step, unless it was already tried (its body is fixed). */
export async function addLocation(
  seq: number,
  location: { latitude: number; longitude: number; accuracy_m?: number | null },
  database: FieldworkDB = db,
): Promise<void> {
  await database.transaction("rw", database.outbox, async () => {
    const item = await database.outbox.get(seq);
    if (item?.kind !== "transition" || item.attempts > 0 || item.sentBody !== undefined) return;
    await database.outbox.update(seq, { payload: { ...item.payload, location } });
  });
}

/** Return the report body of a draft (what PUT /jobs/{id}/report receives). */
export function reportFromDraft(draft: DraftRow): ReportPayload {
  return {
    work_notes: draft.workNotes.trim() === "" ? null : draft.workNotes,
    checklist: Object.entries(draft.checklist).map(([key, value]) => ({
      key,
      answer: value.answer,
      ok: value.ok,
    })),
    parts: draft.parts.map((part) => ({
      part_number: part.part_number,
      description: part.description,
      quantity: part.quantity,
    })),
    labour_minutes: draft.labourMinutes,
    resolution_code: draft.resolutionCode.trim() === "" ? null : draft.resolutionCode.trim(),
  };
}

/** Return the job's draft, or an empty one. */
export async function draftOf(jobId: number, database: FieldworkDB = db): Promise<DraftRow> {
  return (
    (await database.drafts.get(jobId)) ?? {
      jobId,
      checklist: {},
      parts: [],
      workNotes: "",
      labourMinutes: null,
      resolutionCode: "",
      updatedAt: phoneTime(),
    }
  );
}

/**
 * Change the job's report draft and queue it for the server. A queued report that was
 * never tried is overwritten in place (the server never saw its key); else a new item.
 */
export async function saveDraft(
  jobId: number,
  change: (draft: DraftRow) => DraftRow,
  database: FieldworkDB = db,
): Promise<DraftRow> {
  return database.transaction("rw", database.drafts, database.outbox, database.jobs, async () => {
    const draft = { ...change(await draftOf(jobId, database)), updatedAt: phoneTime() };
    await database.drafts.put(draft);
    const items = await database.outbox.where("jobId").equals(jobId).toArray();
    const replace = reportToReplace(items, jobId);
    if (replace?.seq !== undefined) {
      await database.outbox.update(replace.seq, { payload: reportFromDraft(draft), createdAt: draft.updatedAt });
    } else {
      await database.outbox.add({
        kind: "report",
        key: newId(),
        jobId,
        createdAt: draft.updatedAt,
        status: "waiting",
        expectedVersion: null,
        attempts: 0,
        payload: reportFromDraft(draft),
      });
    }
    return draft;
  });
}

/** Keep a photo on the phone and queue its upload. */
export async function queuePhoto(photo: PhotoRow, database: FieldworkDB = db): Promise<void> {
  await database.transaction("rw", database.photos, database.outbox, async () => {
    await database.photos.put(photo);
    await database.outbox.add({
      kind: "photo",
      key: newId(),
      jobId: photo.jobId,
      createdAt: photo.capturedAt,
      status: "waiting",
      expectedVersion: null,
      attempts: 0,
      payload: { clientId: photo.clientId },
    });
  });
}

/** Queue the customer's signature (a PNG from the pad). */
export async function queueSignature(
  jobId: number,
  signerName: string,
  pngBase64: string,
  position: { latitude: number; longitude: number } | null,
  database: FieldworkDB = db,
  now: Date = new Date(),
): Promise<void> {
  await database.outbox.add({
    kind: "signature",
    key: newId(),
    jobId,
    createdAt: phoneTime(now),
    status: "waiting",
    expectedVersion: null,
    attempts: 0,
    payload: {
      client_id: newId(),
      signer_name: signerName.trim(),
      signer_role: "customer",
      png_base64: pngBase64,
      ...(position ?? {}),
    },
  });
}

/**
 * Send a refused item and the ones held behind it again, as new requests (new keys:
 * the body changes, the server's first answer stays on record under the old key).
 */
export async function retryRefused(jobId: number, database: FieldworkDB = db): Promise<void> {
  await database.transaction("rw", database.outbox, database.jobs, async () => {
    const job = await database.jobs.get(jobId);
    const items = await database.outbox
      .where("jobId")
      .equals(jobId)
      .filter((item) => item.status === "refused" || item.status === "held")
      .sortBy("seq");
    let first = true;
    for (const item of items) {
      if (item.seq === undefined) continue;
      const rebased = item.kind === "transition" && first ? (job?.serverVersion ?? null) : null;
      if (item.kind === "transition") first = false;
      await database.outbox.update(item.seq, {
        status: "waiting",
        key: newId(),
        previousKeys: [...(item.previousKeys ?? []), item.key],
        sentBody: undefined,
        attempts: 0,
        outcome: null,
        expectedVersion: item.kind === "transition" ? rebased : null,
      });
    }
    if (job) await database.jobs.update(jobId, { conflict: null });
  });
}

/** Drop a job's refused and held items (the technician chose to let them go). */
export async function discardRefused(jobId: number, database: FieldworkDB = db): Promise<void> {
  await database.transaction("rw", database.outbox, database.jobs, database.photos, async () => {
    const items = await database.outbox
      .where("jobId")
      .equals(jobId)
      .filter((item) => item.status === "refused" || item.status === "held")
      .toArray();
    await database.outbox.bulkDelete(items.map((item) => item.seq ?? -1));
    const photos = items.flatMap((item) => (item.kind === "photo" && wellFormed(item) ? [item.payload.clientId] : []));
    await database.photos.bulkDelete(photos);
    const job = await database.jobs.get(jobId);
    const left = await database.outbox.where("jobId").equals(jobId).filter((i) => i.status !== "sent").count();
    // A job the server took away stays only while steps of ours wait on it.
    if (job?.removedOnServer && left === 0) await database.jobs.delete(jobId);
    else await database.jobs.update(jobId, { conflict: null });
  });
}
