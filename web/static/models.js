// While a training runs, keep the progress bar current; reload the page when it ends, so
// the result and the new model show.
(function () {
  "use strict";
  const section = document.getElementById("training");
  if (!section || section.dataset.running !== "yes") {
    return;
  }
  const phase = document.getElementById("training-phase");
  const bar = document.getElementById("training-progress");
  const percent = document.getElementById("training-percent");
  const poll = async () => {
    try {
      const response = await fetch("/admin/models/progress", { credentials: "same-origin" });
      const run = await response.json();
      if (run.status !== "running") {
        window.location.reload();
        return;
      }
      phase.textContent = run.phase;
      bar.value = run.progress;
      bar.textContent = percent.textContent = run.progress + "%";
    } catch (error) {
      // The server may be busy for a moment; try again on the next tick.
    }
    window.setTimeout(poll, 2000);
  };
  window.setTimeout(poll, 2000);
})();
