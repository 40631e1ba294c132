// The replay's network side: the typed client for JSON calls, tus-js-client for photos.
import { Upload } from "tus-js-client";
import { API_BASE, makeClient, type ApiClient } from "../api/client";
import type { JobDetail, PhotoFromUpload, ProblemBody, ReportUpdate, SignatureUpload, TransitionRequest } from "../api/types";
import { db, type FieldworkDB, type OutboxItem } from "../db/db";
import type { Answer, Transport } from "./replay";
import { currentAccessToken, ensureAccess, refresh } from "./session";
import { newId } from "./time";

/** tus chunks: small enough that a dropped connection loses little, at most 8 MiB (server). */
export const UPLOAD_CHUNK = 256 * 1024;

interface Result {
  data?: unknown;
  error?: unknown;
  response: Response;
}

function answerOf<T>(result: Result): Answer<T> {
  const status = result.response.status;
  if (status >= 200 && status < 300) return { status, data: result.data as T };
  return { status, problem: (result.error ?? undefined) as ProblemBody | undefined };
}

async function guarded<T>(call: () => Promise<Result>): Promise<Answer<T>> {
  try {
    return answerOf<T>(await call());
  } catch {
    return { status: null }; // no answer: offline or cut mid-flight
  }
}

/**
 * Give the attach request a new Idempotency-Key: the next one names another upload (or the
 * same one, finished), and the server may keep its answer to this one under the old key.
 * The photo is still created once: the server knows it by its client_id.
 */
async function newAttachKey(database: FieldworkDB, item: OutboxItem): Promise<void> {
  if (item.seq !== undefined) {
    await database.outbox.update(item.seq, { key: newId(), previousKeys: [...(item.previousKeys ?? []), item.key] });
  }
}

/** Upload a photo with tus (resuming from the server's offset), then attach it to the job. */
async function uploadPhoto(
  client: ApiClient,
  item: OutboxItem & { kind: "photo" },
  key: string,
  database: FieldworkDB,
): Promise<Answer> {
  const photo = await database.photos.get(item.payload.clientId);
  if (!photo) return { status: 422, problem: { code: "photo_missing", status: 422, title: "Photo missing", type: "about:blank" } };
  let uploadUrl = photo.uploadUrl;
  if (photo.uploadedBytes < photo.bytes || !uploadUrl) {
    const outcome = await new Promise<{ ok: true; url: string } | { ok: false; status: number | null }>(
      (resolve) => {
        const upload: Upload = new Upload(photo.blob, {
          endpoint: `${API_BASE}/uploads`,
          ...(uploadUrl ? { uploadUrl } : {}),
          chunkSize: UPLOAD_CHUNK,
          retryDelays: [0, 1000],
          storeFingerprintForResuming: false,
          metadata: { client_id: photo.clientId, sha256: photo.sha256, filetype: "image/jpeg" },
          onBeforeRequest(request) {
            const token = currentAccessToken();
            if (token) request.setHeader("Authorization", `Bearer ${token}`);
          },
          onUploadUrlAvailable() {
            if (upload.url) void database.photos.update(photo.clientId, { uploadUrl: upload.url });
          },
          onProgress(bytesSent) {
            void database.photos.update(photo.clientId, { uploadedBytes: bytesSent });
          },
          onSuccess() {
            resolve({ ok: true, url: upload.url ?? "" });
          },
          onError(error) {
            const status =
              "originalResponse" in error && error.originalResponse
                ? error.originalResponse.getStatus()
                : null;
            resolve({ ok: false, status: status === 0 ? null : status });
          },
        });
        upload.start();
      },
    );
    if (!outcome.ok) return { status: outcome.status };
    uploadUrl = outcome.url;
    await database.photos.update(photo.clientId, { uploadUrl, uploadedBytes: photo.bytes });
  }
  const uploadId = uploadUrl.split("/").pop() ?? "";
  const body: PhotoFromUpload = {
    upload_id: uploadId,
    client_id: photo.clientId,
    captured_at: photo.capturedAt,
    sha256: photo.sha256,
    ...(photo.latitude !== undefined && photo.longitude !== undefined
      ? { latitude: photo.latitude, longitude: photo.longitude }
      : {}),
  };
  const answer = await guarded(() =>
    client.POST("/jobs/{job_id}/photos/from-upload", {
      params: { path: { job_id: item.jobId }, header: { "Idempotency-Key": key } },
      body,
    }),
  );
  if (answer.status === 404) {
    // The job is gone, or the upload expired on the server (24 h): then upload again.
    const job = await guarded(() => client.GET("/jobs/{job_id}", { params: { path: { job_id: item.jobId } } }));
    if (job.status !== 200) return job.status === 404 ? answer : job;
    await newAttachKey(database, item);
    await database.photos.update(photo.clientId, { uploadUrl: null, uploadedBytes: 0 });
    return { status: 503 };
  }
  if (answer.status === 409 && answer.problem?.code === "upload_incomplete") {
    // Ask the server's offset again (tus HEAD) and send the rest.
    await newAttachKey(database, item);
    await database.photos.update(photo.clientId, { uploadedBytes: 0 });
    return { status: 503 };
  }
  return answer;
}

/** Return the transport the app uses against the real server. */
export function httpTransport(database: FieldworkDB = db): Transport {
  const client = makeClient(currentAccessToken);
  return {
    async transition(jobId, body, key) {
      await ensureAccess(database);
      return guarded<JobDetail>(() =>
        client.POST("/jobs/{job_id}/transitions", {
          params: { path: { job_id: jobId }, header: { "Idempotency-Key": key } },
          body: body as TransitionRequest,
        }),
      );
    },
    async report(jobId, body, key) {
      await ensureAccess(database);
      return guarded(() =>
        client.PUT("/jobs/{job_id}/report", {
          params: { path: { job_id: jobId }, header: { "Idempotency-Key": key } },
          body: body as ReportUpdate,
        }),
      );
    },
    async signature(jobId, body, key) {
      await ensureAccess(database);
      return guarded(() =>
        client.POST("/jobs/{job_id}/signature", {
          params: { path: { job_id: jobId }, header: { "Idempotency-Key": key } },
          body: body as SignatureUpload,
        }),
      );
    },
    async photo(item, key) {
      await ensureAccess(database);
      return uploadPhoto(client, item, key, database);
    },
    async job(jobId) {
      await ensureAccess(database);
      return guarded<JobDetail>(() => client.GET("/jobs/{job_id}", { params: { path: { job_id: jobId } } }));
    },
    reauthenticate: () => refresh(database),
  };
}
