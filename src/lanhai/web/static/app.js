// Lanhai: the only script. Refreshes the jobs page while a job runs (every 3 s).
(function () {
  "use strict";
  var table = document.querySelector("[data-refresh]");
  if (!table || table.getAttribute("data-refresh") !== "yes") { return; }
  window.setTimeout(function () { window.location.reload(); }, 3000);
}());
