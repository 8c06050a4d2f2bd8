// Draws the report's charts with uPlot from primeloadSeries, which the Go
// writer embeds as JSON. Offline: no fetches. The only globals besides
// uPlot and the data are primeloadRender, which the live dashboard calls
// again with each update's data, and the charts it drew last.
let primeloadCharts = [];

function primeloadRender(d) {
  "use strict";
  // A redraw replaces every chart: their elements may be new ones.
  primeloadCharts.forEach(function (u) { u.destroy(); });
  primeloadCharts = [];
  const palette = ["#0969da", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#1b7c83", "#57606a"];

  function width(el) { return Math.max(320, el.clientWidth || 900); }

  // axisSize widens the y axis to its longest label, so 15,000 ms is not
  // clipped to 5,000.
  function axisSize(u, values, axisIdx, cycleNum) {
    const axis = u.axes[axisIdx];
    if (cycleNum > 1) { return axis._size; }
    let size = axis.ticks.size + axis.gap;
    let longest = "";
    (values || []).forEach(function (v) { if (v != null && String(v).length > longest.length) { longest = String(v); } });
    if (longest !== "") {
      u.ctx.font = axis.font[0];
      size += u.ctx.measureText(longest).width / devicePixelRatio;
    }
    return Math.ceil(size) + 4;
  }

  function draw(name, title, series, data, extra) {
    const el = document.querySelector('[data-chart="' + name + '"]');
    const opts = Object.assign({
      title: title,
      width: width(el),
      height: 260,
      // Room for the first time label's date line and the last percentile label.
      padding: [8, 32, null, 24],
      series: [(extra && extra.x) || {}].concat(series.map(function (s, i) {
        return Object.assign({ stroke: palette[i % palette.length], width: 2, spanGaps: false }, s);
      })),
    }, extra || {});
    delete opts.x;
    opts.axes = opts.axes || [{}, {}];
    opts.axes[1] = Object.assign({ size: axisSize }, opts.axes[1]);
    if (data[0] === d.time || data[0] === d.fine.time) {
      opts.hooks = { draw: phaseMarks(el) };
      // The run's span, whatever the data: uPlot would stretch one point
      // to years. Phase starts are within it.
      opts.scales = Object.assign({ x: { time: true, range: function () {
        return d.start < d.end ? [d.start, d.end] : [d.start - 1, d.end + 1];
      } } }, opts.scales);
    }
    // How many points were drawn, for a reader (or a test) of the DOM.
    el.dataset.points = data.slice(1).reduce(function (n, ys) {
      return n + ys.filter(function (y) { return y != null; }).length;
    }, 0);
    const u = new uPlot(opts, data, el);
    primeloadCharts.push(u);
    return u;
  }

  // phaseMarks draws each phase's start as a dashed line with its name on
  // a time chart, and records how many it drew in the DOM.
  function phaseMarks(el) {
    return [function (u) {
      const ctx = u.ctx, b = u.bbox;
      let drawn = 0;
      ctx.save();
      ctx.strokeStyle = "#8c959f";
      ctx.fillStyle = "#57606a";
      ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.font = (11 * devicePixelRatio) + "px system-ui, sans-serif";
      // uPlot leaves its axes' alignment on the context: a right-aligned
      // name would run left over the line and off a mark at the start.
      ctx.textAlign = "left";
      ctx.textBaseline = "alphabetic";
      d.phases.forEach(function (p) {
        const x = Math.round(u.valToPos(p.time, "x", true));
        if (x < b.left || x > b.left + b.width) { return; }
        ctx.beginPath();
        ctx.moveTo(x, b.top);
        ctx.lineTo(x, b.top + b.height);
        ctx.stroke();
        ctx.fillText(p.name, x + 3 * devicePixelRatio, b.top + 12 * devicePixelRatio);
        drawn++;
      });
      ctx.restore();
      el.dataset.phases = drawn;
    }];
  }

  const fixed = function (digits) {
    return function (u, v) { return v == null ? "-" : v.toFixed(digits); };
  };

  // The users, rate and latency charts draw the fine series (a point a
  // second) when the report has one, the periods otherwise.
  const f = d.fine;
  if (f.time.length > 0) {
    draw("users", "Virtual users (active at each second's end, finished per second)", [
      { label: "active", value: fixed(0) },
      { label: "finished/s", value: fixed(1) },
    ], [f.time, f.active, f.ended]);
    draw("rate", "Request rate (requests/s, per " + f.step + " s)", [{ label: "requests/s", value: fixed(1) }], [f.time, f.rate]);
  } else {
    draw("users", "Virtual users (active at each period's end, completed in it)", [
      { label: "active", value: fixed(0) },
      { label: "completed", value: fixed(0) },
    ], [d.time, d.active, d.completed]);
    draw("rate", "Request rate (requests/s)", [{ label: "requests/s", value: fixed(1) }], [d.time, d.rate]);
  }
  draw("errors", "Error rate (% of requests: 5xx and network errors)",
    [{ label: "error %", value: fixed(2) }], [d.time, d.errorRate],
    { scales: { y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } } });
  const pcts = [
    { label: "p50", value: fixed(1) },
    { label: "p95", value: fixed(1) },
    { label: "p99", value: fixed(1) },
  ];
  if (f.time.length > 0) {
    draw("latency", "Latency over time (ms, per " + f.step + " s; within 12.5%)", pcts, [f.time, f.p50, f.p95, f.p99]);
  } else {
    draw("latency", "Latency over time (ms)", pcts, [d.time, d.p50, d.p95, d.p99]);
  }

  // One line per name over the periods' time axis.
  function lines(name, title, named, digits) {
    draw(name, title, named.map(function (s) { return { label: s.name, value: fixed(digits) }; }),
      [d.time].concat(named.map(function (s) { return s.values; })));
  }
  lines("outcomes", "Status codes and errors (per second)", d.outcomes, 1);
  lines("endpointRate", "Responses per second by endpoint", d.endpointRate, 1);
  lines("endpointP50", "p50 latency by endpoint (ms)", d.endpointP50, 1);
  lines("endpointP95", "p95 latency by endpoint (ms)", d.endpointP95, 1);
  lines("endpointP99", "p99 latency by endpoint (ms)", d.endpointP99, 1);

  // The spectrum's x is 1/(1-q): on a log axis 90%, 99%, 99.9% are evenly
  // spaced, as in HdrHistogram's plotter. Label only the powers of ten.
  function pct(x) {
    const p = 100 * (1 - 1 / x);
    const digits = Math.max(0, Math.round(Math.log10(x)) - 2);
    return p.toFixed(digits) + "%";
  }
  const sp = d.spectrum;
  draw("spectrum", "Latency by percentile (ms)",
    sp.series.map(function (s) { return { label: s.name, value: fixed(2) }; }),
    [sp.x].concat(sp.series.map(function (s) { return s.values; })),
    {
      x: { label: "percentile", value: function (u, v) { return v == null ? "-" : pct(v); } },
      scales: { x: { time: false, distr: 3, log: 10 } },
      axes: [{
        values: function (u, splits) {
          return splits.map(function (v) {
            const l = Math.log10(v);
            return Math.abs(l - Math.round(l)) < 1e-9 ? pct(v) : "";
          });
        },
      }, {}],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    });
}

primeloadRender(primeloadSeries);
