// The phone's position for a step, only when the technician allows it (a setting).
import { getMeta } from "../db/db";

/** Return where the phone is, or null (not allowed, refused, or no fix within 4 s). */
export async function currentPosition(): Promise<{ latitude: number; longitude: number; accuracy_m: number } | null> {
  if (!(await getMeta<boolean>("sharePosition"))) return null;
  if (!("geolocation" in navigator)) return null;
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (fix) => {
        resolve({
          latitude: fix.coords.latitude,
          longitude: fix.coords.longitude,
          accuracy_m: Math.min(fix.coords.accuracy, 100_000),
        });
      },
      () => {
        resolve(null);
      },
      { enableHighAccuracy: true, timeout: 4000, maximumAge: 60_000 },
    );
  });
}
