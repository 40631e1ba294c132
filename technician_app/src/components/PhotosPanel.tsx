// Photos: camera or gallery, compressed on the phone, shown at once, uploaded later.
import { useEffect, useState } from "preact/hooks";
import type { PhotoRow, ServerPhotoRow } from "../db/db";
import { addPhoto, NotAnImage } from "../sync/photos";
import { currentPosition } from "../sync/position";
import { useI18n } from "./i18n";

/** Larger than any phone photo: refused before decoding. */
const MAX_PICK_BYTES = 40 * 1024 * 1024;

function useObjectUrl(blob: Blob): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const made = URL.createObjectURL(blob);
    setUrl(made);
    return () => {
      URL.revokeObjectURL(made);
    };
  }, [blob]);
  return url;
}

function Thumb({ photo }: { photo: PhotoRow }) {
  const { t, time } = useI18n();
  const url = useObjectUrl(photo.blob);
  return (
    <li class="thumb" data-testid="photo-thumb">
      {url && <img src={url} alt={t("photos.alt", { time: time(photo.capturedAt) })} width={96} height={96} />}
      <span class="small">{photo.serverId ? t("photos.uploaded") : t("photos.pending")}</span>
    </li>
  );
}

function ServerThumb({ photo }: { photo: ServerPhotoRow }) {
  const { t, time } = useI18n();
  const url = useObjectUrl(photo.blob);
  return (
    <li class="thumb" data-testid="server-photo">
      {url && (
        <img src={url} alt={t("photos.alt", { time: photo.capturedAt ? time(photo.capturedAt) : "" })} width={96} height={96} />
      )}
      <span class="small">{t("photos.uploaded")}</span>
    </li>
  );
}

export function PhotosPanel({
  jobId,
  photos,
  serverPhotos,
  onServer,
}: {
  jobId: number;
  photos: PhotoRow[];
  serverPhotos: ServerPhotoRow[];
  onServer: number;
}) {
  const { t } = useI18n();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const take = async (files: FileList | null) => {
    if (!files) return;
    setError(null);
    setBusy(true);
    const position = await currentPosition();
    for (const file of Array.from(files)) {
      if (file.size > MAX_PICK_BYTES) {
        setError(t("photos.tooLarge"));
        continue;
      }
      try {
        await addPhoto(jobId, file, position);
      } catch (caught) {
        setError(caught instanceof NotAnImage ? t("photos.notImage") : String(caught));
      }
    }
    setBusy(false);
  };
  const uploadedHere = new Set(photos.map((photo) => photo.serverId).filter((id) => id !== null));
  const elsewhere = Math.max(0, onServer - uploadedHere.size);
  return (
    <section class="panel" data-testid="photos-panel" aria-busy={busy}>
      <h2>
        {t("photos.title")} <span class="muted small">{t("photos.count", { n: photos.length + elsewhere })}</span>
      </h2>
      <ul class="thumbs">
        {serverPhotos.map((photo) => (
          <ServerThumb key={photo.id} photo={photo} />
        ))}
        {photos.map((photo) => (
          <Thumb key={photo.clientId} photo={photo} />
        ))}
      </ul>
      {elsewhere > serverPhotos.length && (
        <p class="muted small">{t("photos.onServer", { n: elsewhere - serverPhotos.length })}</p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="row">
        <label class="button">
          {t("photos.camera")}
          <input
            type="file"
            accept="image/*"
            capture="environment"
            class="visually-hidden"
            data-testid="photo-camera"
            onChange={(event) => {
              const input = event.currentTarget;
              void take(input.files).then(() => {
                input.value = "";
              });
            }}
          />
        </label>
        <label class="button">
          {t("photos.gallery")}
          <input
            type="file"
            accept="image/*"
            multiple
            class="visually-hidden"
            data-testid="photo-gallery"
            onChange={(event) => {
              const input = event.currentTarget;
              void take(input.files).then(() => {
                input.value = "";
              });
            }}
          />
        </label>
      </div>
    </section>
  );
}
