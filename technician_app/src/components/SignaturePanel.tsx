// The customer signs on the screen (signature_pad), with their name; an empty pad is refused.
import SignaturePad from "signature_pad";
import { useEffect, useRef, useState } from "preact/hooks";
import { queueSignature } from "../sync/outbox";
import { currentPosition } from "../sync/position";
import { useI18n } from "./i18n";

/** Size the canvas for the screen's pixel density (sharp strokes on high-DPI phones). */
function fitCanvas(canvas: HTMLCanvasElement, pad: SignaturePad): void {
  const ratio = Math.max(window.devicePixelRatio || 1, 1);
  canvas.width = Math.round(canvas.offsetWidth * ratio);
  canvas.height = Math.round(canvas.offsetHeight * ratio);
  canvas.getContext("2d")?.scale(ratio, ratio);
  pad.clear(); // resizing wipes the bitmap; keep the pad's idea of "empty" in step
}

export function SignaturePanel({ jobId, signedBy }: { jobId: number; signedBy: string[] }) {
  const { t } = useI18n();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const padRef = useRef<SignaturePad | null>(null);
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const pad = new SignaturePad(canvas, { penColor: "#111", minWidth: 0.8, maxWidth: 2.6 });
    padRef.current = pad;
    fitCanvas(canvas, pad);
    const onResize = () => {
      fitCanvas(canvas, pad);
    };
    window.addEventListener("resize", onResize);
    return () => {
      window.removeEventListener("resize", onResize);
      pad.off();
    };
  }, []);

  const save = async () => {
    const pad = padRef.current;
    if (!pad || pad.isEmpty()) {
      setError(t("signature.empty"));
      return;
    }
    if (name.trim() === "") {
      setError(t("signature.noName"));
      return;
    }
    setSaving(true);
    setError(null);
    const png = pad.toDataURL("image/png").replace(/^data:image\/png;base64,/, "");
    const position = await currentPosition();
    await queueSignature(
      jobId,
      name,
      png,
      position ? { latitude: position.latitude, longitude: position.longitude } : null,
    );
    pad.clear();
    setName("");
    setSaving(false);
  };

  return (
    <section class="panel" data-testid="signature-panel">
      <h2>{t("signature.title")}</h2>
      {signedBy.map((signer) => (
        <p key={signer} class="ok-text" data-testid="signed-by">
          ✓ {t("signature.done", { name: signer })}
        </p>
      ))}
      <canvas ref={canvasRef} class="signature-pad" aria-label={t("signature.pad")} role="img" data-testid="signature-pad" />
      <label>
        {t("signature.name")}
        <input
          name="signer_name"
          value={name}
          autocomplete="off"
          onInput={(event) => {
            setName(event.currentTarget.value);
          }}
        />
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="row">
        <button type="button" onClick={() => padRef.current?.clear()}>
          {t("signature.clear")}
        </button>
        <button type="button" class="primary" disabled={saving} onClick={() => void save()}>
          {t("signature.save")}
        </button>
      </div>
    </section>
  );
}
