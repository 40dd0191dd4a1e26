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
})();
