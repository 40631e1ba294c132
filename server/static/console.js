/* Fieldwork console: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* --- Saved filters of the work order list (kept in this browser) --- */
  function initSavedFilters(root) {
    var box = root.querySelector("[data-saved-filters]");
    if (!box) return;
    var key = "fieldwork.savedFilters";
    var list = box.querySelector("[data-saved-list]");
    var load = function () {
      try { return JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { return {}; }
    };
    var render = function () {
      var saved = load();
      list.textContent = "";
      Object.keys(saved).sort().forEach(function (name) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = saved[name];
        a.textContent = name;
        var del = document.createElement("button");
        del.type = "button";
        del.className = "link small";
        del.textContent = box.getAttribute("data-label-delete") || "Delete";
        del.addEventListener("click", function () {
          var all = load();
          delete all[name];
          localStorage.setItem(key, JSON.stringify(all));
          render();
        });
        li.appendChild(a);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(del);
        list.appendChild(li);
      });
    };
    box.querySelector("[data-save-filter]").addEventListener("submit", function (event) {
      event.preventDefault();
      var name = event.target.elements.name.value.trim();
      if (!name) return;
      var all = load();
      all[name] = window.location.pathname + window.location.search;
      localStorage.setItem(key, JSON.stringify(all));
      event.target.reset();
      render();
    });
    render();
  }

  /* --- Intake: the category proposes its default priority --- */
  function initIntake(root) {
    var category = root.querySelector("select[data-priority-target]");
    if (!category) return;
    category.addEventListener("change", function () {
      var option = category.options[category.selectedIndex];
      var target = document.querySelector(category.getAttribute("data-priority-target"));
      var value = option && option.getAttribute("data-default-priority");
      if (target && value) target.value = value;
    });
  }

  /* --- Dispatch board: drag and drop with SortableJS (the keyboard uses the job links) --- */
  var dragging = false;

  function postMove(board, item, list) {
    var data = new FormData();
    data.append("csrf_token", csrfToken());
    data.append("order_id", item.getAttribute("data-order-id"));
    data.append("expected_version", item.getAttribute("data-version"));
    data.append("technician_id", list.getAttribute("data-tech") || "");
    data.append("day", list.getAttribute("data-day") || "");
    data.append("hour", list.getAttribute("data-hour") || "");
    board.classList.add("busy");
    fetch(board.getAttribute("data-move-url"), {
      method: "POST",
      body: data,
      headers: { "HX-Request": "true", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#board");
        if (fresh) {
          board.replaceWith(fresh);
          if (window.htmx) window.htmx.process(fresh);
          initBoard(fresh.parentNode || document);
        }
      })
      .catch(function () { window.location.reload(); });
  }

  function initBoard(root) {
    var board = (root.id === "board" ? root : root.querySelector("#board"));
    if (!board || !window.Sortable) return;
    board.querySelectorAll("[data-drop]").forEach(function (list) {
      if (list._sortable) return;
      list._sortable = window.Sortable.create(list, {
        group: "board",
        animation: 120,
        forceFallback: true, // pointer events: same behaviour in every browser and under test
        onStart: function () { dragging = true; },
        onEnd: function (event) {
          dragging = false;
          if (event.from === event.to) return;
          postMove(board, event.item, event.to);
        },
      });
    });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    // Never replace the board under the dispatcher's pointer.
    // Nor under a dispatcher filling in the keyboard form: skip this poll, take the next.
    if (!event.target || event.target.id !== "board") return;
    var active = document.activeElement;
    var busy = active && active.closest && active.closest("#board .side form");
    if (dragging || busy) event.preventDefault();
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    // A poll answered while a drag began: keep the board the pointer holds.
    if (dragging && event.detail && event.detail.target && event.detail.target.id === "board") {
      event.detail.shouldSwap = false;
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target) return;
    if (target.id === "pickers") {
      var results = document.getElementById("customer-results");
      if (results) results.textContent = "";
      var details = document.querySelector("details.new-customer");
      if (details) details.open = false;
    }
  });
  document.addEventListener("htmx:load", function (event) {
    var el = event.detail && event.detail.elt;
    if (el && el.id === "board") initBoard(el);
  });

  /* --- Dashboard chart (chart.js) --- */
  function initChart(root) {
    var canvas = root.querySelector("canvas[data-chart]");
    if (!canvas || !window.Chart) return;
    var data = JSON.parse(canvas.getAttribute("data-chart"));
    var colours = ["#0b6bcb", "#1a7f37"];
    data.datasets.forEach(function (ds, i) {
      ds.borderColor = colours[i % 2];
      ds.backgroundColor = colours[i % 2];
      ds.tension = 0.2;
    });
    new window.Chart(canvas, {
      type: "line",
      data: data,
      options: { responsive: true, maintainAspectRatio: false, animation: false,
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }

  /* --- Map (Leaflet); without tiles the markers still show --- */
  function initMap(root) {
    var el = root.querySelector("#map[data-points]");
    if (!el || !window.L) return;
    var points = JSON.parse(el.getAttribute("data-points") || "[]");
    var map = window.L.map(el, { zoomControl: true }).setView([31.23, 121.47], 11);
    var tiles = el.getAttribute("data-tiles");
    if (tiles) {
      window.L.tileLayer(tiles, { maxZoom: 19, attribution: el.getAttribute("data-attribution") }).addTo(map);
    }
    var bounds = [];
    points.forEach(function (p) {
      var colour = p.kind === "tech" ? "#1a7f37" : (p.status === "breached" ? "#b42318" : (p.status === "at_risk" ? "#b54708" : "#0b6bcb"));
      window.L.circleMarker([p.lat, p.lon], { radius: p.kind === "tech" ? 7 : 6, color: colour, fillOpacity: 0.8 })
        .bindTooltip(p.label).addTo(map);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length) map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 });
  }

  /* --- Photo viewer --- */
  function initViewer(root) {
    var dialog = root.querySelector("[data-viewer-dialog]");
    if (!dialog || !dialog.showModal) return;
    root.querySelectorAll("[data-viewer] a[data-full]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var img = dialog.querySelector("img");
        img.src = link.href;
        img.alt = (link.querySelector("img") || {}).alt || "";
        dialog.showModal();
      });
    });
  }

  /* --- Detail page: the live header refreshes the steps, unless the user is typing in one --- */
  function hasTypedInput(root) {
    return Array.prototype.some.call(
      root.querySelectorAll("input:not([type=hidden]), textarea, select"),
      function (field) {
        if (field.tagName === "SELECT") {
          var option = field.options[field.selectedIndex];
          return !!option && option.value !== "" && !option.defaultSelected;
        }
        return field.value !== field.defaultValue;
      }
    );
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || target.id !== "order-steps" || !hasTypedInput(target)) return;
    event.detail.shouldSwap = false;  // keep the typing; say the page is behind instead
    var note = target.querySelector("[data-stale-note]");
    if (note) note.hidden = false;
  });

  document.addEventListener("DOMContentLoaded", function () {
    initSavedFilters(document);
    initIntake(document);
    initBoard(document);
    initChart(document);
    initMap(document);
    initViewer(document);
  });
})();
