// Runs in <head> before first paint: apply the theme the person chose last time.
// With no saved choice, no attribute is set and Pico follows the OS (prefers-color-scheme).
(function () {
  try {
    var saved = localStorage.getItem("theme");
    if (saved === "light" || saved === "dark") {
      document.documentElement.setAttribute("data-theme", saved);
    }
  } catch (e) { /* storage may be disabled; the OS theme applies */ }
})();
