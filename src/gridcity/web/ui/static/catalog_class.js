/* gridcity catalog class form (/admin/catalog/<set>/<kind>/<code>): rows of filing criteria and
 * of extra form fields, added and removed in the browser. The rows start from the JSON the page
 * carries (the stored rules, or what was typed before a refusal); the server checks everything. */
(function () {
  "use strict";

  function initial() {
    const element = document.getElementById("class-form-state");
    return element ? JSON.parse(element.textContent) : { filing: [], fields: [] };
  }

  function register() {
    window.Alpine.data("catalogClassForm", function () {
      const state = initial();
      let next = 0;
      const keyed = function (row) {
        next += 1;
        return Object.assign({ key: next }, row);
      };
      return {
        filing: state.filing.map(keyed),
        fields: state.fields.map(keyed),
        addCriterion: function () {
          this.filing.push(keyed({ code: "", text: "" }));
        },
        addField: function () {
          this.fields.push(
            keyed({ name: "", label_zh: "", label_en: "", type: "text", required: "", choices: "" })
          );
        },
        remove: function (list, row) {
          const at = list.indexOf(row);
          if (at >= 0) list.splice(at, 1);
        },
      };
    });
  }

  document.addEventListener("alpine:init", register);
})();
