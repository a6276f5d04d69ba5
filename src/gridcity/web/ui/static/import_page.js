/* gridcity import page (/admin/import): the Alpine component behind "Check (dry run)". The
 * check posts the form (file included) and shows the server's report under it, with a small
 * map of the file; the report's confirm button submits the same form, file and all, with the
 * fingerprint of what was checked. Needs map_kit.js. */
(function () {
  "use strict";

  const { readJson, createMap } = window.gridcityMapKit;

  function messageOf(html, fallback) {
    // A refusal made before the page could answer (a 413 from the size limit) is a small page.
    const doc = new DOMParser().parseFromString(html, "text/html");
    const text = doc.querySelector("p");
    return text ? text.textContent : fallback;
  }

  function showError(report, text) {
    const p = document.createElement("p");
    p.className = "flash error";
    p.setAttribute("data-testid", "import-refused");
    p.textContent = text;
    report.replaceChildren(p);
  }

  function register(config) {
    let map = null;

    function drawPreview() {
      const data = readJson("import-preview");
      if (map) {
        map.remove();
        map = null;
      }
      if (!data || !data.features.features.length) return;
      map = createMap("import-map", data.basemap);
      const shapes = L.geoJSON(data.features, {
        style: { color: "#d9480f", weight: 1.2, fillColor: "#ffd8a8", fillOpacity: 0.5 },
        onEachFeature: function (feature, layer) {
          if (feature.properties.code) layer.bindTooltip(document.createTextNode(feature.properties.code), { sticky: true });
        },
      }).addTo(map);
      map.invalidateSize();
      map.fitBounds(shapes.getBounds(), { padding: [12, 12], animate: false });
    }

    window.Alpine.data("importPage", function () {
      return {
        kind: "grids",
        checking: false,
        saving: false,
        init: function () {
          const chosen = document.querySelector("input[name=kind]:checked");
          if (chosen) this.kind = chosen.value;
        },
        reset: function () {
          // Another file or option: the shown result no longer applies, so no confirm button.
          const report = document.getElementById("import-report");
          if (report && report.querySelector("[data-import-report]")) {
            if (map) {
              map.remove();
              map = null;
            }
            report.replaceChildren();
          }
        },
        check: async function () {
          const form = document.getElementById("import-form");
          if (!form.reportValidity()) return;
          this.reset();
          this.checking = true;
          const report = document.getElementById("import-report");
          try {
            const response = await fetch(config.check, { method: "POST", body: new FormData(form), credentials: "same-origin" });
            const html = await response.text();
            if (html.indexOf("data-import-report") >= 0) {
              report.innerHTML = html;
              drawPreview();
            } else {
              showError(report, messageOf(html, config.failed));
            }
          } catch (error) {
            showError(report, config.failed);
          } finally {
            this.checking = false;
          }
        },
      };
    });
  }

  const config = readJson("import-config");
  if (config) {
    document.addEventListener("alpine:init", function () {
      register(config);
    });
  }
})();
