// Web Push: subscribe this browser with the server's VAPID key and register it.
// Pushes carry ids only; the service worker shows them and asks the open app to sync.
import { makeClient } from "../api/client";
import { db, getMeta, setMeta } from "../db/db";
import type { Locale } from "../i18n";
import { currentAccessToken, ensureAccess } from "./session";

export type PushResult = "on" | "denied" | "unsupported" | "offline" | "error";

interface PushState {
  key: string;
  deviceId: number | null;
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(base64url.length / 4) * 4, "=");
  const raw = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/** Return whether pushes reach this browser (subscribed with the key the server has). */
export async function pushEnabled(): Promise<boolean> {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) return false;
  const registration = await navigator.serviceWorker.getRegistration("/app/");
  const subscription = await registration?.pushManager.getSubscription();
  return Boolean(subscription && (await getMeta<PushState>("push")));
}

/** Ask for permission, subscribe, and register the subscription with the server. */
export async function enablePush(locale: Locale, appVersion: string): Promise<{ result: PushResult; code?: string }> {
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return { result: "unsupported" };
  }
  if ((await Notification.requestPermission()) !== "granted") return { result: "denied" };
  if (!(await ensureAccess())) return { result: "offline" };
  const client = makeClient(currentAccessToken);
  try {
    const found = await client.GET("/devices/web-push-key");
    const key = found.data?.application_server_key;
    if (!key) return { result: "error", code: `key_${found.response.status}` };
    const registration = await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    const stored = await getMeta<PushState>("push");
    if (subscription && stored?.key !== key) {
      // Made with another key: it would never receive our pushes.
      await subscription.unsubscribe();
      subscription = null;
    }
    subscription ??= await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(key),
    });
    const json = subscription.toJSON();
    const registered = await client.POST("/devices/web-push", {
      body: {
        endpoint: json.endpoint ?? subscription.endpoint,
        expirationTime: json.expirationTime ?? null,
        keys: { auth: json.keys?.auth ?? "", p256dh: json.keys?.p256dh ?? "" },
        locale,
        app_version: appVersion,
      },
    });
    if (!registered.response.ok) {
      const problem = registered.error as { code?: string } | undefined;
      return { result: "error", code: problem?.code ?? `http_${registered.response.status}` };
    }
    await setMeta("push", { key, deviceId: registered.data?.id ?? null } satisfies PushState, db);
    return { result: "on" };
  } catch (error) {
    return { result: error instanceof TypeError ? "offline" : "error", code: String(error).slice(0, 80) };
  }
}
