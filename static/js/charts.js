// Draws every Plotly figure on the page from its JSON (see orgadmin/templatetags/ui.py), after
// the first load and after every htmx swap. Follows the light/dark theme. Clicking a point on a
// chart with data-drilldown navigates (through htmx when the page asks for it). A legend click
// is Plotly's own: it hides or shows that series; drilling down is a bar click only.
(function () {
  "use strict";

  function themeColors() {
    var style = getComputedStyle(document.documentElement);
    return {
      text: style.getPropertyValue("--pico-color").trim() || "#333",
      muted: style.getPropertyValue("--pico-muted-color").trim() || "#777",
      grid: style.getPropertyValue("--pico-muted-border-color").trim() || "#ddd",
    };
  }

  function themedLayout(layout) {
    var c = themeColors();
    var axis = { gridcolor: c.grid, linecolor: c.grid, zerolinecolor: c.grid, tickfont: { color: c.muted } };
    var out = Object.assign({}, layout, {
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: Object.assign({ family: "system-ui, sans-serif", size: 12 }, layout.font || {}, { color: c.text }),
    });
    ["xaxis", "yaxis", "yaxis2"].forEach(function (name) {
      if (out[name] || name === "xaxis" || name === "yaxis") out[name] = Object.assign({}, axis, out[name] || {});
    });
    if (out.legend) out.legend = Object.assign({}, out.legend, { font: { color: c.text } });
    return out;
  }

  // A trace's name arrives escaped for Plotly (orgadmin/charts.py plotly_text): the name as typed,
  // for a URL or a textContent, undoes html.escape(quote=False).
  function plain(name) {
    return String(name || "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function fill(template, point) {
    return template
      .replace("{x}", encodeURIComponent(point.x))
      .replace("{name}", encodeURIComponent(plain(point.data.name)))
      .replace("{customdata}", encodeURIComponent(point.customdata == null ? "" : point.customdata));
  }

  function draw(el) {
    if (!window.Plotly || el._drawn) return;
    el._drawn = true;
    var source = document.getElementById(el.getAttribute("data-plotly"));
    if (!source) return;
    var fig = JSON.parse(source.content ? source.content.textContent : source.textContent);
    el._figure = fig;
    var config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"] };
    if (el.classList.contains("sparkline")) config.staticPlot = true;
    window.Plotly.newPlot(el, fig.data, themedLayout(fig.layout || {}), config).then(function () {
      el.setAttribute("data-rendered", "true");
      // User Timing: when the page's first chart appeared (read by the browser tests).
      if (window.performance && !performance.getEntriesByName("first-chart").length) performance.mark("first-chart");
      el.dispatchEvent(new CustomEvent("chart:drawn", { bubbles: true }));
    });
    wireDrill(el);
    var drill = el.getAttribute("data-drilldown");
    if (drill) {
      el.on("plotly_click", function (event) {
        var url = fill(drill, event.points[0]);
        if (window.htmx && el.hasAttribute("data-drilldown-target")) {
          window.htmx.ajax("GET", url, { target: el.getAttribute("data-drilldown-target"), pushUrl: true });
        } else {
          window.location.href = url;
        }
      });
    }
  }

  // --- Drill-down inside [data-drill-target] (a bar click): a trace's meta.drill narrows the page to that series
  // (through htmx, into the target); a point's customdata is a link for that bucket (e.g. the
  // audit log of that day). One option acts at once; two open a small menu at the click.
  var openMenu = null;

  function closeMenu() {
    if (openMenu) { openMenu.remove(); openMenu = null; }
  }

  function narrow(url, target) {
    closeMenu();
    if (window.htmx && document.querySelector(target)) {
      window.htmx.ajax("GET", url, { target: target, swap: "outerHTML" });
    } else {
      window.location.href = url;
    }
  }

  function menuItem(menu, label, onClick, href) {
    var a = document.createElement("a");
    a.textContent = label;
    a.href = href;
    a.setAttribute("role", "menuitem");
    if (onClick) a.addEventListener("click", function (e) { e.preventDefault(); onClick(); });
    menu.appendChild(a);
    return a;
  }

  function showMenu(event, target) {
    var point = event.points && event.points[0];
    if (!point) return;
    var drill = point.data.meta && point.data.meta.drill;
    var link = typeof point.customdata === "string" ? point.customdata : "";
    if (drill && !link) return narrow(drill, target);
    if (link && !drill) { window.location.href = link; return; }
    if (!drill && !link) return;
    closeMenu();
    var menu = document.createElement("div");
    menu.className = "drill-menu";
    menu.setAttribute("role", "menu");
    var title = document.createElement("strong");
    title.textContent = plain(point.data.name) + " · " + point.x;
    menu.appendChild(title);
    var first = menuItem(menu, "Show only " + plain(point.data.name), function () { narrow(drill, target); }, drill);
    menuItem(menu, "What changed on " + point.x + " (audit log)", null, link);
    var e = event.event || {};
    menu.style.left = Math.min((e.pageX || 0) + 8, window.scrollX + window.innerWidth - 280) + "px";
    menu.style.top = ((e.pageY || 0) + 8) + "px";
    document.body.appendChild(menu);
    openMenu = menu;
    first.focus();
  }

  document.addEventListener("click", function (event) {
    if (openMenu && !openMenu.contains(event.target) && !event.target.closest(".js-plotly-plot")) closeMenu();
  });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") closeMenu(); });

  function wireDrill(el) {
    var holder = el.closest("[data-drill-target]");
    if (!holder) return;
    var target = holder.getAttribute("data-drill-target");
    el.on("plotly_click", function (event) { showMenu(event, target); });
  }

  function drawAll(root) {
    root = root || document;
    if (root.matches && root.matches("[data-plotly]")) draw(root);
    root.querySelectorAll("[data-plotly]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  // After a swap, draw whatever is new. htmx:load fires on each new element (an outerHTML swap
  // detaches the old target, whose afterSettle never reaches the document); drawn charts are skipped.
  document.addEventListener("htmx:load", function (event) { drawAll(event.detail.elt); });
  document.addEventListener("htmx:afterSettle", function () { drawAll(document); });
  document.addEventListener("themechange", function () {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-plotly][data-rendered]").forEach(function (el) {
      window.Plotly.relayout(el, themedLayout((el._figure && el._figure.layout) || {}));
    });
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", function () {
    document.dispatchEvent(new CustomEvent("themechange"));
  });
})();
