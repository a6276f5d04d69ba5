/* gridcity map kit: what the grid map and the generation preview share: reading the page's
 * JSON, fetching our own JSON, a Leaflet map with the optional basemap, and text labels.
 * Text from data enters the DOM as text nodes, never as HTML. */
(function () {
  "use strict";

  function readJson(id) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  async function fetchJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const data = await response.json().catch(function () {
      return {};
    });
    if (!response.ok) throw new Error(data.message || "HTTP " + response.status);
    return data;
  }

  function absolute(path, params) {
    const url = new URL(path, window.location.origin);
    Object.entries(params || {}).forEach(function ([key, value]) {
      url.searchParams.set(key, value);
    });
    return url.toString();
  }

  // Shared by both pages: a map with an optional basemap and the canvas renderer.
  function createMap(elementId, basemap) {
    const map = L.map(elementId, { zoomSnap: 0.25, zoomDelta: 0.5, preferCanvas: true, maxZoom: 19 });
    map.setView([39.92, 116.41], 12);
    if (basemap) {
      L.tileLayer(basemap.url, { attribution: basemap.attribution || "", maxZoom: 19 }).addTo(map);
    }
    L.control.scale({ imperial: false }).addTo(map);
    return map;
  }

  // A permanent label; several lines are several text nodes (never HTML from data).
  function textLabel(latlng, text, className) {
    const lines = Array.isArray(text) ? text.filter(Boolean) : [text];
    const box = document.createElement("span");
    lines.forEach(function (line, i) {
      if (i) box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(line));
    });
    return L.tooltip({ permanent: true, direction: "center", interactive: false, className: className })
      .setLatLng(latlng)
      .setContent(box);
  }

  window.gridcityMapKit = {
    readJson: readJson,
    fetchJson: fetchJson,
    absolute: absolute,
    createMap: createMap,
    textLabel: textLabel,
  };
})();
