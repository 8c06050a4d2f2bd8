// The live dashboard's part of the page (primeload run --dashboard): it
// follows the run's server-sent events at ./events. Each event carries the
// whole report so far (the page's markup before its scripts, and the chart
// data), so a missed or dropped event loses nothing; "final" is the report
// the run wrote, after which the page stays as it is.
(function () {
  "use strict";
  const banner = document.createElement("p");
  banner.id = "primeload-live";
  banner.style.cssText = "position:sticky;top:0;z-index:10;margin:0 0 8px;padding:4px 10px;" +
    "background:#ddf4ff;border:1px solid #54aeff;border-radius:6px;font-size:13px";
  banner.textContent = "live: connecting to primeload";
  document.body.prepend(banner);

  // replace swaps the report's markup for the new one and redraws the
  // charts, keeping where the reader had scrolled to.
  function replace(u) {
    const y = window.scrollY;
    const scripts = document.body.querySelector("script");
    Array.from(document.body.children).forEach(function (el) {
      if (el.tagName !== "SCRIPT" && el !== banner) { el.remove(); }
    });
    const t = document.createElement("template");
    t.innerHTML = u.report;
    document.body.insertBefore(t.content, scripts);
    primeloadRender(u.series);
    window.scrollTo(0, y);
  }

  const events = new EventSource("events");
  events.addEventListener("update", function (e) {
    replace(JSON.parse(e.data));
    banner.textContent = "live: the run so far, updated each period; last update " + new Date().toLocaleTimeString();
  });
  events.addEventListener("final", function (e) {
    events.close();
    replace(JSON.parse(e.data));
    banner.textContent = "run finished: the final report, the same as the --html file";
    document.body.dataset.final = "true";
  });
  events.onerror = function () {
    if (events.readyState !== EventSource.CLOSED) {
      banner.textContent = "live: lost the connection to primeload, retrying";
    }
  };
}());
