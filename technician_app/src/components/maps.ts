// The phone's own map app for navigation: AMap in Chinese, Apple Maps on iOS, Google else.

export type Platform = "ios" | "android" | "other";

/** Return the platform from a user agent string. */
export function platformOf(userAgent: string): Platform {
  if (/iPhone|iPad|iPod/i.test(userAgent)) return "ios";
  if (/Android/i.test(userAgent)) return "android";
  return "other";
}

/** Return the link that opens turn-by-turn navigation to a site. */
export function navigationUrl(
  platform: Platform,
  locale: string,
  latitude: number,
  longitude: number,
  label: string,
): string {
  const name = encodeURIComponent(label);
  if (locale.startsWith("zh")) {
    // AMap's URI API opens the AMap app when installed, its web page otherwise.
    return `https://uri.amap.com/navigation?to=${longitude},${latitude},${name}&mode=car&coordinate=wgs84&callnative=1`;
  }
  if (platform === "ios") return `https://maps.apple.com/?daddr=${latitude},${longitude}&q=${name}`;
  if (platform === "android") return `geo:${latitude},${longitude}?q=${latitude},${longitude}(${name})`;
  return `https://www.google.com/maps/dir/?api=1&destination=${latitude},${longitude}`;
}
