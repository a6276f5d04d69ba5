/* gridcity census page (/admin/census): the Alpine component behind "Check (dry run)" and
 * "Import". Both post the form (file included) with the CSRF token in a header, and read the
 * answer as it streams: NDJSON lines {stage, done, total} while the server works, then one
 * {result}, {refused} or {error}. The server keeps no job state, so the progress shown is the
 * response itself. The report's CSV is made here from the problems the answer carried. */
(function () {
  "use strict";

  function readConfig() {
    const element = document.getElementById("census-config");
    return element ? JSON.parse(element.textContent) : null;
  }

  function csvCell(value) {
    const text = String(value === null || value === undefined ? "" : value);
    // A spreadsheet would run a cell that starts like a formula: keep it text.
    const safe = /^[=+\-@\t\r]/.test(text) ? "'" + text : text;
    return /[",\n\r]/.test(safe) ? '"' + safe.replace(/"/g, '""') + '"' : safe;
  }

  function register(config) {
    window.Alpine.data("censusPage", function () {
      return {
        busy: false,
        checked: false,
        stage: "",
        done: 0,
        total: 1,
        result: null,
        refused: null,
        error: "",
        get stageLabel() {
          return config.stages[this.stage] || this.stage;
        },
        get percent() {
          return this.total ? Math.floor((100 * this.done) / this.total) : 0;
        },
        get shownProblems() {
          return this.refused ? this.refused.problems.slice(0, config.shown) : [];
        },
        get moreProblems() {
          return this.refused ? Math.max(this.refused.total - config.shown, 0) : 0;
        },
        reset: function () {
          // Another file or option: the shown check no longer applies, so no import yet.
          this.checked = false;
          this.result = null;
          this.refused = null;
          this.error = "";
        },
        send: async function (write) {
          const form = document.getElementById("census-form");
          if (this.busy || !form.reportValidity()) return;
          const body = new FormData(form);
          body.set("dry_run", write ? "false" : "true");
          this.reset();
          this.busy = true;
          this.stage = "read";
          this.done = 0;
          this.total = 1;
          try {
            const response = await fetch(config.import, {
              method: "POST",
              body: body,
              headers: {
                "X-CSRF-Token": form.elements.namedItem("csrf_token").value,
                Accept: "application/json",
              },
              credentials: "same-origin",
            });
            if (!response.ok || !response.body) {
              const data = await response.json().catch(function () {
                return null;
              });
              this.error = (data && data.message) || config.failed;
              return;
            }
            await this.read(response.body, write);
            if (!this.result && !this.refused && !this.error) this.error = config.failed;
          } catch (error) {
            this.error = config.failed;
          } finally {
            this.busy = false;
          }
        },
        read: async function (stream, write) {
          const reader = stream.getReader();
          const decoder = new TextDecoder();
          let buffer = "";
          for (;;) {
            const chunk = await reader.read();
            if (chunk.done) break;
            buffer += decoder.decode(chunk.value, { stream: true });
            let end;
            while ((end = buffer.indexOf("\n")) >= 0) {
              const line = buffer.slice(0, end);
              buffer = buffer.slice(end + 1);
              if (line.trim()) this.take(JSON.parse(line), write);
            }
          }
          if (buffer.trim()) this.take(JSON.parse(buffer), write);
        },
        take: function (item, write) {
          if (item.stage) {
            this.stage = item.stage;
            this.done = item.done;
            this.total = item.total || 1;
          } else if (item.result) {
            this.result = item.result;
            this.checked = !write && item.result.dry_run;
          } else if (item.refused) {
            this.refused = item.refused;
          } else if (item.error) {
            this.error = item.error.message || config.failed;
          }
        },
        downloadReport: function () {
          if (!this.refused) return;
          const lines = [["row", "column", "code", "reason"].join(",")];
          this.refused.problems.forEach(function (p) {
            lines.push([p.row, p.column, p.code, p.message].map(csvCell).join(","));
          });
          const blob = new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
          const link = document.createElement("a");
          link.href = URL.createObjectURL(blob);
          link.download = "census-report.csv";
          document.body.appendChild(link);
          link.click();
          link.remove();
          setTimeout(function () {
            URL.revokeObjectURL(link.href);
          }, 1000);
        },
      };
    });
  }

  const config = readConfig();
  if (config) {
    document.addEventListener("alpine:init", function () {
      register(config);
    });
  }
})();
