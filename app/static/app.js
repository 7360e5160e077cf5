// jixiao page behaviour. No inline scripts anywhere (CSP script-src 'self').
(function () {
  "use strict";
  // Toasts fade away by themselves.
  document.addEventListener("htmx:afterSwap", function (event) {
    var toast = document.getElementById("toast");
    if (toast && event.detail.target === toast && toast.innerHTML.trim() !== "") {
      clearTimeout(toast._timer);
      toast._timer = setTimeout(function () { toast.innerHTML = ""; }, 6000);
    }
  });
  // A network failure is said in Chinese, not silently ignored.
  document.addEventListener("htmx:sendError", function () {
    var toast = document.getElementById("toast");
    if (toast) {
      toast.innerHTML = '<section class="notice notice-error" role="alert"><p>网络连接失败，内容尚未保存，请稍后重试。</p></section>';
    }
  });
})();

// --- self-evaluation form -------------------------------------------------------------------
(function () {
  "use strict";
  // Print buttons (no inline handlers under the CSP).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) { event.preventDefault(); window.print(); }
  });

  // A new achievement level has a new score band: forget the score chosen inside the old one
  // (capture phase, so the cleared value is what the row's save sends).
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-level]")) {
      var row = select.closest("tr");
      var band = row && row.querySelector("input[name=score_in_band]");
      if (band) { band.value = ""; }
    }
  }, true);

  // A row is replaced by the server's copy after each save. Keep what was typed while the save
  // was on its way, and save it in turn, so no keystroke is lost.
  function valuesOf(region) {
    var values = {};
    region.querySelectorAll("input[id], select[id], textarea[id]").forEach(function (el) {
      values[el.id] = el.value;
    });
    return values;
  }
  var typedMeanwhile = {};
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.matches && elt.matches("[data-row], #money, #goal")) { elt._sentValues = valuesOf(elt); }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var old = event.detail.target;
    if (!old || !old._sentValues) { return; }
    var now = valuesOf(old);
    Object.keys(now).forEach(function (id) {
      if (old._sentValues[id] !== undefined && now[id] !== old._sentValues[id]) { typedMeanwhile[id] = now[id]; }
    });
  });
  document.addEventListener("htmx:afterSettle", function () {
    var ids = Object.keys(typedMeanwhile);
    if (!ids.length) { return; }
    var pending = typedMeanwhile;
    typedMeanwhile = {};
    ids.forEach(function (id) {
      var el = document.getElementById(id);
      if (el && el.value !== pending[id]) {
        el.value = pending[id];
        el.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  });

  // Leaving the page (closing the tab, switching away): save the field being typed in now
  // rather than after the keyup delay.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "hidden") { return; }
    var el = document.activeElement;
    if (el && el.closest && el.closest("[data-row], #money, #goal")) {
      el.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
})();
