// Entry point: open the app, register the service worker (scope /app/), start syncing.
import { render } from "preact";
import { App } from "./app";
import "./styles.css";

const root = document.getElementById("root");
if (root) render(<App />, root);

if ("serviceWorker" in navigator) {
  // Registered once the page is up so the first load stays fast; precaching the shell
  // makes every later start work with no network.
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch((error: unknown) => {
      console.warn("service worker not registered", error);
    });
  });
}
