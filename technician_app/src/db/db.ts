// The phone's storage (IndexedDB through Dexie): the app's source of truth.
//
// Screens render what is here and subscribe to it (liveQuery); only src/sync/ writes what
// comes from the server. Schema changes add a `this.version(n)` with an upgrade, never edit
// an old one.
import { Dexie, type EntityTable } from "dexie";
import type { JobDetail, JobSummary, Reason, TransitionOption } from "../api/types";

/** A job as the phone keeps it: the last list entry, the last detail, and what we know. */
export interface JobRow {
  id: number;
  summary: JobSummary;
  detail: JobDetail | null;
  /** The server's version we last saw (from the list, a detail or a step's answer). */
  serverVersion: number;
  /** When the server last told us about the job (ISO). */
  syncedAt: string;
  /** The server dropped it from our list while steps of ours were still queued. */
  removedOnServer?: boolean;
  /** The last refusal that changed the job under the technician's feet. */
  conflict?: Conflict | null;
  /** A step or file of ours was sent since `detail` was fetched: fetch it before a step. */
  stale?: boolean;
}

export interface Conflict {
  at: string;
  /** The state the server reports now (or null when the job is no longer ours). */
  state: string | null;
  stateLabel: string | null;
  message: string;
  /** What the phone showed of the job when the step was refused: compared with now. */
  before?: JobSummary;
}

export type OutboxKind = "transition" | "report" | "photo" | "signature";
/** waiting: to send · sent: the server took it · refused: the server said no (with why) ·
 *  held: not sent because an earlier step of the same job was refused. */
export type OutboxStatus = "waiting" | "sent" | "refused" | "held";

export interface TransitionPayload {
  transition: string;
  label: string;
  target: string | null;
  input: Record<string, unknown>;
  location: { latitude: number; longitude: number; accuracy_m?: number | null } | null;
}

export interface ReportPayload {
  work_notes: string | null;
  checklist: { key: string; answer: string | null; ok: boolean | null }[];
  parts: { part_number: string; description?: string | null; quantity: number }[];
  labour_minutes: number | null;
  resolution_code: string | null;
}

export interface PhotoPayload {
  clientId: string;
}

export interface SignaturePayload {
  client_id: string;
  signer_name: string;
  signer_role: "customer" | "technician";
  png_base64: string;
  latitude?: number;
  longitude?: number;
}

export interface Outcome {
  status: number;
  code: string;
  message: string;
  reasons?: Reason[];
  state?: string | null;
  transitions?: TransitionOption[];
}

interface OutboxBase {
  seq?: number;
  /** Idempotency-Key, made once when the item is queued. */
  key: string;
  jobId: number;
  /** Phone time of the tap (ISO with offset). */
  createdAt: string;
  status: OutboxStatus;
  /** The job's version when the step was taken; null: right after an earlier queued step. */
  expectedVersion: number | null;
  /** The exact body of the first attempt: retries send it again under the same key. */
  sentBody?: unknown;
  attempts: number;
  lastAttemptAt?: string;
  sentAt?: string;
  outcome?: Outcome | null;
  /** Keys used before the technician chose to try a refused step again. */
  previousKeys?: string[];
}

export type OutboxItem =
  | (OutboxBase & { kind: "transition"; payload: TransitionPayload })
  | (OutboxBase & { kind: "report"; payload: ReportPayload })
  | (OutboxBase & { kind: "photo"; payload: PhotoPayload })
  | (OutboxBase & { kind: "signature"; payload: SignaturePayload });

/** A photo taken on the phone, kept until the server has it (and shown from here). */
export interface PhotoRow {
  clientId: string;
  jobId: number;
  blob: Blob;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  capturedAt: string;
  latitude?: number;
  longitude?: number;
  /** The tus upload's URL once created: a resume starts from the server's offset there. */
  uploadUrl: string | null;
  uploadedBytes: number;
  /** The server's photo id once attached. */
  serverId: number | null;
}

/** What the technician filled in for a job's report, kept on the phone. */
export interface DraftRow {
  jobId: number;
  checklist: Record<string, { answer: string | null; ok: boolean | null }>;
  parts: { part_number: string; description: string | null; quantity: number }[];
  workNotes: string;
  labourMinutes: number | null;
  resolutionCode: string;
  updatedAt: string;
}

/** A thumbnail of a photo on the server (taken on another phone, or before a reinstall). */
export interface ServerPhotoRow {
  id: number;
  jobId: number;
  blob: Blob;
  capturedAt: string | null;
}

export interface MetaRow {
  key: string;
  value: unknown;
}

export class FieldworkDB extends Dexie {
  jobs!: EntityTable<JobRow, "id">;
  outbox!: EntityTable<OutboxItem, "seq">;
  photos!: EntityTable<PhotoRow, "clientId">;
  drafts!: EntityTable<DraftRow, "jobId">;
  meta!: EntityTable<MetaRow, "key">;
  serverPhotos!: EntityTable<ServerPhotoRow, "id">;

  constructor(name = "fieldwork") {
    super(name);
    this.version(1).stores({
      jobs: "id",
      outbox: "++seq, jobId, status, &key",
      photos: "clientId, jobId",
      drafts: "jobId",
      meta: "key",
    });
    // 2: thumbnails of the server's photos, kept for offline viewing.
    this.version(2).stores({ serverPhotos: "id, jobId" });
  }
}

export const db = new FieldworkDB();

/** Read one value of the meta table. */
export async function getMeta<T>(key: string, database: FieldworkDB = db): Promise<T | undefined> {
  const row = await database.meta.get(key);
  return row?.value as T | undefined;
}

/** Write one value of the meta table. */
export async function setMeta(key: string, value: unknown, database: FieldworkDB = db): Promise<void> {
  await database.meta.put({ key, value });
}
