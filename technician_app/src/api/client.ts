// The thin typed client of /api/mobile/v1 (openapi-fetch over the generated paths).
import createClient, { type Client } from "openapi-fetch";
import type { paths } from "./schema";

export const API_BASE = "/api/mobile/v1";

export type ApiClient = Client<paths>;

/** Return a client that sends the current access token, read fresh on every request. */
export function makeClient(
  accessToken: () => string | null,
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
): ApiClient {
  // Absolute: requests are built with new Request(), which needs a full URL outside a page.
  const origin = typeof location === "undefined" ? "" : location.origin;
  const client = createClient<paths>({ baseUrl: `${origin}${API_BASE}`, fetch: fetchImpl });
  client.use({
    onRequest({ request }) {
      const token = accessToken();
      if (token && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  });
  return client;
}
