// Photos on the phone: scaled to a long side of at most 1,600 px, JPEG, hashed, queued.
import type { FieldworkDB, PhotoRow } from "../db/db";
import { db } from "../db/db";
import { queuePhoto } from "./outbox";
import { fitWithin } from "./rules";
import { newId, phoneTime } from "./time";

export const MAX_SIDE = 1600;
export const JPEG_QUALITY = 0.82;

/** Return the hex SHA-256 of some bytes. */
export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

export class NotAnImage extends Error {}

/** Decode a picked file and re-encode it as a JPEG within MAX_SIDE (drops its metadata). */
export async function compressPhoto(file: Blob): Promise<{ blob: Blob; width: number; height: number }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    throw new NotAnImage("not an image");
  }
  const size = fitWithin(bitmap.width, bitmap.height, MAX_SIDE);
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  const context = canvas.getContext("2d");
  if (!context) throw new Error("no 2d canvas");
  context.drawImage(bitmap, 0, 0, size.width, size.height);
  bitmap.close();
  const blob = await new Promise<Blob | null>((resolve) => {
    canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY);
  });
  if (!blob) throw new Error("could not encode the photo");
  return { blob, width: size.width, height: size.height };
}

/** Compress a picked photo, keep it on the phone and queue its upload. */
export async function addPhoto(
  jobId: number,
  file: Blob,
  position: { latitude: number; longitude: number } | null,
  database: FieldworkDB = db,
): Promise<PhotoRow> {
  const { blob, width, height } = await compressPhoto(file);
  const photo: PhotoRow = {
    clientId: newId(),
    jobId,
    blob,
    width,
    height,
    bytes: blob.size,
    sha256: await sha256Hex(await blob.arrayBuffer()),
    capturedAt: phoneTime(),
    ...(position ?? {}),
    uploadUrl: null,
    uploadedBytes: 0,
    serverId: null,
  };
  await queuePhoto(photo, database);
  return photo;
}
