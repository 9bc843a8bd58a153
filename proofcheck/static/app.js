// Follows a queued or running check until it is final, then reloads to show the result.
(function () {
  "use strict";
  const STAGES = { queued: 5, starting: 10, decoding: 20, hashing: 30, matching: 45,
                   "reading text": 60, forensics: 80, scoring: 95 };

  function follow(section) {
    const url = section.dataset.statusUrl;
    const bar = document.getElementById("progress-bar");
    const status = document.getElementById("progress-status");
    const stage = document.getElementById("progress-stage");
    let delay = 500;
    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (data) {
          if (data.status === "done" || data.status === "failed") {
            window.location.reload();
            return;
          }
          status.textContent = data.status;
          stage.textContent = data.stage || "";
          bar.value = STAGES[data.stage] || bar.value;
          setTimeout(poll, delay);
        })
        .catch(function () { delay = Math.min(delay * 2, 10000); setTimeout(poll, delay); });
    }
    poll();
  }

  function refreshList(container) {
    if (container.querySelector('[data-status="queued"], [data-status="running"]')) {
      setTimeout(function () { window.location.reload(); }, 2000);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const section = document.getElementById("progress");
    if (section) follow(section);
    const list = document.querySelector("[data-refresh-while-pending]");
    if (list) refreshList(list);
  });
})();
