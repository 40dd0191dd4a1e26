// Small behaviours shared by every page. No inline scripts anywhere (the CSP forbids them),
// so everything that needs JavaScript is wired here through data- attributes.
(function () {
  "use strict";

  // --- Theme toggle: light <-> dark, remembered; starts from the OS theme. -------------
  function currentTheme() {
    var explicit = document.documentElement.getAttribute("data-theme");
    if (explicit) return explicit;
    return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-theme-toggle]");
    if (!toggle) return;
    var next = currentTheme() === "dark" ? "light" : "dark";
    document.documentElement.setAttribute("data-theme", next);
    try { localStorage.setItem("theme", next); } catch (e) { /* ignore */ }
    document.dispatchEvent(new CustomEvent("themechange", { detail: { theme: next } }));
  });

  // --- Forms that submit themselves when a select changes (the organization switcher). ---
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (form) form.requestSubmit();
  });

  // --- Date inputs apply the date that was typed, once (issue 16, item 8). ---------------------
  // Chromium fires input and change at each keystroke that makes a whole date ("10/01/2" is the
  // year 0002), so a filter that reloads on change applied every keystroke and lost the focus.
  // While a date input is typed into, its input and change events stop here (on window, in the
  // capture phase: before htmx and every other listener); leaving the field (Tab, a click away)
  // sends them once, with the final date. Enter submits the form as usual. A date picked from
  // the calendar (no keystroke) applies at once.
  var typedDate = null; // the date input with keystrokes not applied yet
  var releasing = false;
  function isDateInput(el) { return !!(el && el.matches && el.matches("input[type=date]")); }
  window.addEventListener("keydown", function (event) {
    var el = event.target;
    if (!isDateInput(el) || ["Tab", "Shift", "Escape"].indexOf(event.key) >= 0) return;
    if (event.key === "Enter") { typedDate = null; el.dataset.appliedValue = el.value; return; }
    if (typedDate !== el) { typedDate = el; el.dataset.appliedValue = el.value; }
  }, true);
  ["input", "change"].forEach(function (type) {
    window.addEventListener(type, function (event) {
      if (!releasing && typedDate && event.target === typedDate) event.stopPropagation();
    }, true);
  });
  document.addEventListener("focusout", function (event) {
    var el = event.target;
    if (el !== typedDate) return;
    typedDate = null;
    if (el.value === el.dataset.appliedValue) return;
    el.dataset.appliedValue = el.value;
    releasing = true;
    try {
      el.dispatchEvent(new Event("input", { bubbles: true }));
      el.dispatchEvent(new Event("change", { bubbles: true }));
    } finally {
      releasing = false;
    }
  });

  // --- Dismissable messages. ---------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-dismiss]");
    if (close) close.parentElement.remove();
  });

  // --- Copy buttons: <button data-copy="#id-of-element-with-the-text">. -----------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    navigator.clipboard.writeText(text.trim()).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // --- Confirmation dialog for destructive actions. ------------------------------------------
  // htmx: hx-confirm="…" opens our <dialog> instead of window.confirm.
  // Plain forms: <form data-confirm="…"> does the same before submitting.
  // data-confirm-type="name" on the same element asks the person to type that name first.
  var dialog = document.getElementById("confirm-dialog");

  function askConfirmation(text, typeToConfirm, onConfirm) {
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(text)) onConfirm();
      return;
    }
    document.getElementById("confirm-text").textContent = text;
    var ok = dialog.querySelector("[data-confirm-ok]");
    var cancel = dialog.querySelector("[data-confirm-cancel]");
    var typed = dialog.querySelector("input[data-confirm-typed]");
    if (typed) typed.parentElement.remove();
    ok.disabled = false;
    if (typeToConfirm) {
      var label = document.createElement("label");
      label.textContent = "Type “" + typeToConfirm + "” to confirm";
      typed = document.createElement("input");
      typed.setAttribute("data-confirm-typed", "");
      typed.autocomplete = "off";
      label.appendChild(typed);
      document.getElementById("confirm-text").after(label);
      ok.disabled = true;
      typed.addEventListener("input", function () { ok.disabled = typed.value !== typeToConfirm; });
    }
    function close(confirmed) {
      ok.removeEventListener("click", onOk);
      cancel.removeEventListener("click", onCancel);
      dialog.close();
      if (confirmed) onConfirm(typed ? typed.value : null);
    }
    function onOk() { close(true); }
    function onCancel() { close(false); }
    ok.addEventListener("click", onOk);
    cancel.addEventListener("click", onCancel);
    // The dialog gives the focus back to what opened it, or the same control after a swap.
    var opener = document.activeElement;
    dialog.addEventListener("close", function () {
      if (document.activeElement && document.activeElement !== document.body) return;
      returnFocus(opener && opener !== document.body ? opener : null, opener && opener.getAttribute && opener.getAttribute("href"));
    }, { once: true });
    dialog.showModal();
    (typed || cancel).focus();
  }
  window.orgDashboardConfirm = askConfirmation;

  document.addEventListener("htmx:confirm", function (event) {
    var question = event.detail.question;
    if (!question) return;
    event.preventDefault();
    var el = event.detail.elt;
    var typeName = el.getAttribute("data-confirm-type");
    askConfirmation(question, typeName, function (typedValue) {
      if (typedValue !== null && typedValue !== undefined) {
        var hidden = el.closest("form") && el.closest("form").querySelector("input[name=confirm_name]");
        if (hidden) hidden.value = typedValue;
      }
      event.detail.issueRequest(true);
    });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-confirm]") || form.dataset.confirmed === "yes") return;
    if (form.hasAttribute("hx-post") || form.hasAttribute("hx-delete")) return; // htmx:confirm handles it
    event.preventDefault();
    askConfirmation(form.getAttribute("data-confirm"), form.getAttribute("data-confirm-type"), function (typedValue) {
      var hidden = form.querySelector("input[name=confirm_name]");
      if (hidden && typedValue !== null && typedValue !== undefined) hidden.value = typedValue;
      form.dataset.confirmed = "yes";
      form.requestSubmit();
    });
  });

  // --- A new key is shown once: dismissing its panel removes the value from the page. --------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-dismiss-panel]");
    if (!button) return;
    var panel = button.closest(".secret-once-panel");
    if (panel) panel.remove();
  });

  // --- Plain (non-htmx) forms that take a while: show their spinner, refuse a second submit. -----
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-loading-form]") || event.defaultPrevented) return;
    if (form.classList.contains("is-loading")) { event.preventDefault(); return; }
    form.classList.add("is-loading");
    form.setAttribute("aria-busy", "true");
  });

  // --- After an htmx swap, move focus to the first field with an error (keyboard users). --------
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.detail.target.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
  });

  // --- Side drawers (<aside class="drawer">): a [data-drawer-close] link or Escape empties the
  // drawer, and drops the `event` parameter that opened it from the address bar. ----------------
  // Closing gives the focus back to what opened the drawer (issue 16, item 12): the link itself,
  // or the same link again when a swap replaced it, or the page's main content.
  var drawerOpener = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.classList && target.classList.contains("drawer")) drawerOpener = event.detail.elt;
  });
  function returnFocus(opener, fallbackHref) {
    var href = (opener && opener.getAttribute("href")) || fallbackHref;
    var el = opener && opener.isConnected ? opener : null;
    if (!el && href) {
      el = Array.prototype.find.call(document.querySelectorAll("main a[href]"), function (a) {
        return a.getAttribute("href") === href;
      });
    }
    el = el || document.getElementById("main");
    if (el) el.focus();
  }
  function closeDrawer(drawer) {
    var wasOpen = drawer.firstElementChild !== null;
    drawer.innerHTML = "";
    var url = new URL(window.location.href);
    var opened = url.pathname + url.search;
    if (url.searchParams.has("event")) {
      url.searchParams.delete("event");
      window.history.pushState({}, "", url.pathname + url.search);
    }
    if (wasOpen) returnFocus(drawerOpener, opened);
    drawerOpener = null;
  }
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-drawer-close]");
    var drawer = close && close.closest(".drawer");
    if (!drawer) return;
    event.preventDefault();
    closeDrawer(drawer);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll(".drawer:not(:empty)").forEach(closeDrawer);
  });
  // A drawer filled by htmx takes the focus, so keyboard and screen-reader users land in it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target.classList && target.classList.contains("drawer") && target.firstElementChild) {
      target.setAttribute("tabindex", "-1");
      target.focus();
    }
  });

  // --- Boxes that scroll sideways (issue 16, items 9 and 12) ------------------------------------
  // A table wider than its .table-wrap (and any [data-scroll-region]) scrolls inside the box; the
  // keyboard must reach it to scroll it, and a screen reader must hear what it is: while it
  // overflows it is a labelled region in the tab order, named after its table's caption or the
  // heading above it.
  function scrollLabel(box) {
    var caption = box.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    var table = box.querySelector("table[aria-label]");
    if (table) return table.getAttribute("aria-label");
    var el = box;
    while (el && el !== document.body) {
      var prev = el.previousElementSibling;
      while (prev) {
        var heading = prev.matches("h1, h2, h3, h4") ? prev : prev.querySelector("h1, h2, h3, h4");
        if (heading && heading.textContent.trim()) return heading.textContent.trim().replace(/\s+/g, " ");
        prev = prev.previousElementSibling;
      }
      el = el.parentElement;
    }
    return "Table";
  }
  function markScrollRegions(root) {
    (root || document).querySelectorAll(".table-wrap, [data-scroll-region]").forEach(function (box) {
      var overflows = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      if (overflows && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.dataset.scrollMarked = box.hasAttribute("aria-label") ? "kept-label" : "yes";
        if (box.dataset.scrollMarked === "yes") box.setAttribute("aria-label", scrollLabel(box) + " (scrolls sideways)");
      } else if (!overflows && box.dataset.scrollMarked) {
        if (box.dataset.scrollMarked === "yes") box.removeAttribute("aria-label");
        ["tabindex", "role", "data-scroll-marked"].forEach(function (a) { box.removeAttribute(a); });
      }
    });
  }

  // --- Panels that fold away on a phone: <details data-fold-below="700" id=…> (issue 16, item 9).
  // Open on a wide screen, closed on a narrow one; once the person opens or closes one, it stays
  // that way across htmx swaps of the page (the same id) until the screen changes width class.
  var foldState = {};
  function foldQuery(el) { return window.matchMedia("(max-width: " + el.getAttribute("data-fold-below") + "px)"); }
  function applyFolds(root) {
    (root || document).querySelectorAll("details[data-fold-below]").forEach(function (el) {
      el.open = el.id in foldState ? foldState[el.id] : !foldQuery(el).matches;
    });
  }
  document.addEventListener("toggle", function (event) {
    var el = event.target;
    if (el.matches && el.matches("details[data-fold-below]") && el.id) foldState[el.id] = el.open;
  }, true);
  var foldWidth = null;
  function onResize() {
    markScrollRegions();
    var narrow = window.matchMedia("(max-width: 700px)").matches;
    if (foldWidth !== null && narrow !== foldWidth) { foldState = {}; applyFolds(); }
    foldWidth = narrow;
  }
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(onResize, 150);
  });
  function onLoad() { applyFolds(); markScrollRegions(); onResize(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", onLoad);
  else onLoad();
  document.addEventListener("htmx:load", function (event) { applyFolds(event.detail.elt.parentElement || document); });
  document.addEventListener("htmx:afterSettle", function () { markScrollRegions(); });

  // --- A failed htmx request (network, 5xx) shows a message instead of doing nothing. ----------
  function showError(text) {
    var box = document.getElementById("messages");
    if (!box) return;
    var div = document.createElement("div");
    div.className = "flash flash-error";
    div.setAttribute("role", "alert");
    var span = document.createElement("span");
    span.textContent = text;
    div.appendChild(span);
    box.appendChild(div);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 403) showError("You don't have access to this action.");
    else if (status >= 500) showError("The server had a problem (HTTP " + status + "). Try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    showError("Could not reach the dashboard. Check your connection and try again.");
  });

  // --- Issue 16, item 14: a search box that filters a list of checkboxes (the model picker). --
  // <input data-filter-list="#list"> hides the list's labels that don't contain what is typed;
  // Enter in it filters, it doesn't send the form around it.
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-filter-list]")) return;
    var list = document.querySelector(box.getAttribute("data-filter-list"));
    if (!list) return;
    var wanted = box.value.trim().toLowerCase();
    list.querySelectorAll("label").forEach(function (label) {
      label.hidden = wanted !== "" && label.textContent.toLowerCase().indexOf(wanted) < 0;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("input[data-filter-list]")) {
      event.preventDefault();
    }
  });

  // --- Issue 16, item 4: a number typed over its maximum says so at once. ----------------------
  // <input data-max="10000" aria-describedby="hint"> (a text input: big numbers keep their
  // separators, so the max attribute of type=number can't apply); the form won't send until fixed.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-max]")) return;
    var max = Number(input.getAttribute("data-max"));
    var value = Number(input.value.replace(/[,_\s]/g, ""));
    var over = input.value.trim() !== "" && isFinite(value) && value > max;
    input.setCustomValidity(over ? "At most " + max.toLocaleString("en-US") + ", the organization's maximum." : "");
    if (over) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  });
})();
