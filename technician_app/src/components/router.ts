// Client routes under /app/ (the server answers index.html for every one of them).
import { useEffect, useState } from "preact/hooks";

export const BASE = "/app/";

export type Route =
  | { name: "day" }
  | { name: "job"; id: number }
  | { name: "queue" }
  | { name: "settings" };

/** Return the route of a path (unknown paths show the day). */
export function parseRoute(pathname: string, hash = ""): Route {
  // Links of the form /app/#/jobs/12 (push payloads) name the same routes.
  if (hash.startsWith("#/")) return parseRoute(BASE + hash.slice(2));
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : "";
  const job = /^jobs\/([1-9][0-9]{0,9})\/?$/.exec(rest);
  if (job?.[1]) return { name: "job", id: Number(job[1]) };
  if (rest === "queue") return { name: "queue" };
  if (rest === "settings") return { name: "settings" };
  return { name: "day" };
}

/** Return the path of a route. */
export function routePath(route: Route): string {
  switch (route.name) {
    case "job":
      return `${BASE}jobs/${route.id}`;
    case "queue":
      return `${BASE}queue`;
    case "settings":
      return `${BASE}settings`;
    default:
      return BASE;
  }
}

const listeners = new Set<() => void>();

/** Go to a route (history entry), as a link would. */
export function navigate(route: Route): void {
  history.pushState(null, "", routePath(route));
  window.scrollTo(0, 0);
  for (const listener of listeners) listener();
}

/** Return the current route; re-render on navigation and Back. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname, location.hash));
  useEffect(() => {
    const update = () => {
      setRoute(parseRoute(location.pathname, location.hash));
    };
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return route;
}

/** Handle a click on an in-app link: navigate without reloading. */
export function linkTo(route: Route): { href: string; onClick: (event: MouseEvent) => void } {
  return {
    href: routePath(route),
    onClick: (event: MouseEvent) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) return;
      event.preventDefault();
      navigate(route);
    },
  };
}
