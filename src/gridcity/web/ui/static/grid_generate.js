/* gridcity grid generation (/admin/grids/generate): the Alpine component behind Preview and
 * Save, and the small map of the proposed grids over the community's current ones. Nothing is
 * written until the form is saved. Needs map_kit.js. */
(function () {
  "use strict";

  const { readJson, fetchJson, absolute, createMap, textLabel } = window.gridcityMapKit;

  function previewMap(config) {
    let map = null;
    let layers = [];
    function ensure() {
      if (!map) map = createMap("generate-map", config.basemap);
      return map;
    }
    return {
      clear: function () {
        layers.forEach(function (layer) {
          layer.remove();
        });
        layers = [];
      },
      show: function (proposed, current) {
        this.clear();
        const m = ensure();
        const renderer = L.canvas({ padding: 0.3 });
        const cells = L.geoJSON(proposed, {
          renderer: renderer,
          style: { color: "#d9480f", weight: 1.2, fillColor: "#ffd8a8", fillOpacity: 0.55 },
          onEachFeature: function (feature, layer) {
            layer.bindTooltip(document.createTextNode(feature.properties.code + " · " +
              Math.round(feature.properties.area_m2).toLocaleString() + " m²"), { sticky: true });
          },
        });
        layers.push(cells.addTo(m));
        if (current && current.features.length) {
          layers.push(L.geoJSON(current, {
            renderer: renderer,
            interactive: false,
            style: { color: "#0b5cab", weight: 1, dashArray: "4 4", fill: false },
          }).addTo(m));
        }
        if (proposed.features.length <= 400) {
          const labels = L.layerGroup();
          cells.eachLayer(function (layer) {
            labels.addLayer(textLabel(layer.getCenter(), layer.feature.properties.code.slice(12), "map-label grid-label"));
          });
          layers.push(labels.addTo(m));
        }
        m.invalidateSize();
        if (proposed.features.length) m.fitBounds(cells.getBounds(), { padding: [16, 16], animate: false });
      },
    };
  }

  function registerGenerator(config) {
    const drawing = previewMap(config);
    window.Alpine.data("gridGenerator", function () {
      return {
        summary: null,
        error: "",
        loading: false,
        saving: false,
        reset: function () {
          this.summary = null;
          this.error = "";
          drawing.clear();
        },
        preview: async function () {
          const community = this.$refs.community;
          const target = this.$refs.target;
          if (!community.reportValidity() || !target.reportValidity()) return;
          this.reset();
          this.loading = true;
          try {
            const [proposed, current] = await Promise.all([
              fetchJson(absolute(config.preview, { community: community.value, target_area: target.value })),
              fetchJson(absolute(config.current, { parent: community.value })).catch(function () {
                return null;
              }),
            ]);
            drawing.show(proposed, current);
            this.summary = proposed.summary;
          } catch (error) {
            this.error = error.message || config.text.failed;
          } finally {
            this.loading = false;
          }
        },
      };
    });
  }

  const config = readJson("generate-config");
  if (config) {
    document.addEventListener("alpine:init", function () {
      registerGenerator(config);
    });
  }
})();
