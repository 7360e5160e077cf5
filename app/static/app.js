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

  // --- autosave ------------------------------------------------------------------------------
  // Each [data-autosave] region (an indicator row, the money block, the goal) saves itself. The
  // server never sends an input back: it answers only the computed cells (score, flags, parse,
  // totals, status, field messages) out of band, so a field the user is in is never replaced.
  // - a save fires on input (after a pause in typing), on change and on compositionend, never
  //   while an input method is composing;
  // - only the fields whose value differs from what the server holds are sent; none, no request;
  // - one save at a time for the whole form (they share the form's version), in order, so no two
  //   are in flight for a row and no older answer arrives after a newer one; what is typed while
  //   a save is on its way is sent by the next one;
  // - a field is formatted as the server holds it (1 → 1.00) only once the user has left it and
  //   only if it is unchanged since its save was sent;
  // - leaving the page with a save pending or on its way asks first.
  var PAUSE = 600;
  var FIELDS = "input[name], select[name], textarea[name]";
  var queue = [];
  var busy = null;
  var loggedOut = false;

  function regionOf(el) { return el && el.closest ? el.closest("[data-autosave]") : null; }
  function fieldsOf(region) { return Array.prototype.slice.call(region.querySelectorAll(FIELDS)); }
  function held(el) {
    // What the server holds for a field: what it last accepted, or what the page came with.
    if (el._held !== undefined) { return el._held; }
    if (el.tagName === "SELECT") {
      for (var i = 0; i < el.options.length; i++) { if (el.options[i].defaultSelected) { return el.options[i].value; } }
      return el.options.length ? el.options[0].value : "";
    }
    return el.defaultValue;
  }
  function changed(el) { return !el._composing && el.value !== held(el); }
  function pending() {
    if (busy || queue.length) { return true; }
    return Array.prototype.some.call(document.querySelectorAll("[data-autosave]"), function (region) {
      return region._timer || fieldsOf(region).some(function (el) { return el.value !== held(el); });
    });
  }

  function schedule(region, delay) {
    clearTimeout(region._timer);
    region._timer = setTimeout(function () { region._timer = null; enqueue(region); }, delay);
  }
  function enqueue(region) {
    if (queue.indexOf(region) < 0) { queue.push(region); }
    pump();
  }
  function pump() {
    while (!busy && queue.length) {
      var region = queue.shift();
      if (document.contains(region)) { send(region); }
    }
    if (!busy && !queue.length) { idle.splice(0).forEach(function (fn) { fn(); }); }
  }
  var idle = [];
  function whenIdle(fn) { if (busy || queue.length) { idle.push(fn); } else { fn(); } }

  function send(region) {
    var sent = fieldsOf(region).filter(changed).map(function (el) { return { el: el, value: el.value }; });
    if (!sent.length) { return; }
    var body = new URLSearchParams();
    var version = document.getElementById("ev-version");
    if (version) { body.append("version", version.value); }
    sent.forEach(function (s) { body.append(s.el.name, s.value); });
    var text = body.toString();
    busy = region;
    region.classList.add("htmx-request");
    fetch(region.getAttribute("data-autosave"), {
      method: "POST",
      body: text,
      headers: { "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      credentials: "same-origin",
      keepalive: text.length < 60000, // the save goes on even if the page is being left
    }).then(function (response) {
      return response.text().then(function (html) { answered(region, sent, response, html); });
    }).catch(function () {
      toast('<section class="notice notice-error" role="alert"><p>网络连接失败，内容尚未保存，请稍后重试。</p></section>');
    }).then(function () {
      region.classList.remove("htmx-request");
      busy = null;
      pump();
    });
  }

  function answered(region, sent, response, html) {
    if (response.status === 401) { // the session ended: keep what was typed, log in again here or elsewhere, resend
      loggedOut = true;
      if (document.querySelector("#toast form[data-relogin]")) { return; } // already offered: keep what is typed there
      toast('<section class="notice notice-error" role="alert"><p>登录已过期，刚才输入的内容仍在本页，尚未保存。' +
        '请在此重新登录，登录后自动重新保存（也可<a href="/login" target="_blank" rel="noopener">在新窗口重新登录</a>，' +
        '回到本页后会自动重新保存）。</p>' +
        '<form class="toolbar" data-relogin>' +
        '<label>用户名 <input name="username" autocomplete="username" required maxlength="200"></label> ' +
        '<label>密码 <input type="password" name="password" autocomplete="current-password" required maxlength="500"></label> ' +
        '<button type="submit" class="primary">重新登录并保存</button> <span data-relogin-error role="status"></span>' +
        '</form></section>');
      return;
    }
    var retarget = response.headers.get("HX-Retarget");
    if (retarget) { // refused as a whole (stale version, logged out, no right): the message in its place
      var target = document.querySelector(retarget);
      if (target) { htmx.swap(target, html, { swapStyle: response.headers.get("HX-Reswap") || "innerHTML", swapDelay: 0, settleDelay: 0 }); }
      return;
    }
    if (!response.ok && response.status !== 422) {
      toast('<section class="notice notice-error" role="alert"><p>保存失败（服务器答复 ' + response.status + '），内容尚未保存，请稍后重试。</p></section>');
      return;
    }
    if (response.ok) { sent.forEach(function (s) { s.el._held = s.value; }); }
    htmx.swap(document.body, html, { swapStyle: "none", swapDelay: 0, settleDelay: 0, ignoreTitle: true });
    if (response.ok) {
      sent.forEach(function (s) { if (s.el !== document.activeElement) { format(s.el); } });
    }
    refresh(region);
  }

  function format(el) {
    // Only a field unchanged since its save was sent (and so held as typed) takes the server's form.
    var stored = document.getElementById("stored-" + el.id);
    if (stored && el._held !== undefined && el.value === el._held && el.value !== stored.value) {
      el.value = stored.value;
      el._held = stored.value;
    }
  }

  function refresh(region) {
    // The row's state and each field's message, from the cells the answer brought.
    var flags = region.querySelector("[data-row-class]");
    if (flags) {
      var state = flags.getAttribute("data-row-class");
      region.classList.toggle("row-error", state.indexOf("row-error") >= 0);
      region.classList.toggle("needs-reason", state.indexOf("needs-reason") >= 0);
      var reason = region.querySelector("textarea[name=deviation_reason]");
      if (reason) {
        if (state.indexOf("needs-reason") >= 0) { reason.setAttribute("aria-required", "true"); }
        else { reason.removeAttribute("aria-required"); }
      }
    }
    var hint = region.querySelector("[data-placeholder], [id^=band-hint-]");
    var band = region.querySelector("input[name=score_in_band]");
    if (hint && band) { band.placeholder = hint.getAttribute("data-placeholder") || "先选达成程度"; }
    fieldsOf(region).forEach(function (el) {
      var msg = document.getElementById("msg-" + el.id);
      var bad = !!(msg && msg.textContent.trim());
      el.classList.toggle("invalid", bad);
      if (bad) {
        el.setAttribute("aria-invalid", "true");
        el.setAttribute("aria-describedby", el.id + "-error");
      } else {
        el.removeAttribute("aria-invalid");
        el.removeAttribute("aria-describedby");
      }
    });
  }

  function toast(html) {
    var box = document.getElementById("toast");
    if (box) { box.innerHTML = html; }
  }

  document.addEventListener("compositionstart", function (event) {
    if (regionOf(event.target)) { event.target._composing = true; }
  });
  document.addEventListener("compositionend", function (event) {
    var region = regionOf(event.target);
    if (!region) { return; }
    event.target._composing = false;
    schedule(region, 0);
  });
  document.addEventListener("input", function (event) {
    var region = regionOf(event.target);
    if (!region || event.isComposing || event.target._composing) { return; }
    schedule(region, PAUSE);
  });
  document.addEventListener("change", function (event) {
    var region = regionOf(event.target);
    if (region && !event.target._composing) { schedule(region, 0); }
  });
  document.addEventListener("focusout", function (event) {
    var el = event.target;
    if (!regionOf(el) || !el.matches(FIELDS)) { return; }
    if (busy && busy.contains(el)) { return; } // formatted when its answer comes, if still left
    format(el);
  });

  // Back on the page after logging in again elsewhere: resend what the expired session refused.
  function resendAfterLogin() {
    if (!loggedOut) { return; }
    loggedOut = false;
    toast("");
    document.querySelectorAll("[data-autosave]").forEach(function (region) {
      if (fieldsOf(region).some(changed)) { enqueue(region); }
    });
  }
  window.addEventListener("focus", resendAfterLogin);
  document.addEventListener("pointerdown", function (event) {
    if (event.target.closest && event.target.closest("form[data-relogin]")) { return; } // logging in here
    resendAfterLogin();
  });
  // Logging in again in place: the login form's own POST, then the refused saves are sent again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-relogin]")) { return; }
    event.preventDefault();
    var error = form.querySelector("[data-relogin-error]");
    var body = new URLSearchParams(new FormData(form));
    body.append("next", "/");
    error.textContent = "正在登录…";
    fetch("/login", { method: "POST", body: body, credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" } }).then(function (response) {
      if (response.ok && response.redirected && new URL(response.url).pathname !== "/login") {
        resendAfterLogin();
        return;
      }
      error.textContent = response.status === 429 ? "登录失败次数过多，请稍后再试（账号不会被锁定）。"
        : "用户名或密码错误，请重新输入。";
    }).catch(function () {
      error.textContent = "网络连接失败，请稍后再试。";
    });
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { resendAfterLogin(); }
  });

  // Leaving the page: send what is typed at once, and ask first while a save is pending.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "hidden") { return; }
    document.querySelectorAll("[data-autosave]").forEach(function (region) {
      if (region._timer) { clearTimeout(region._timer); region._timer = null; }
      if (fieldsOf(region).some(changed)) { enqueue(region); }
    });
  });
  window.addEventListener("beforeunload", function (event) {
    if (!pending()) { return; }
    document.querySelectorAll("[data-autosave]").forEach(function (region) {
      if (region._timer) { clearTimeout(region._timer); region._timer = null; }
      if (fieldsOf(region).some(changed)) { enqueue(region); }
    });
    event.preventDefault();
    event.returnValue = "";
  });

  // 送审 waits for the saves before it, so it is judged on everything typed.
  document.addEventListener("htmx:confirm", function (event) {
    if (!pending()) { return; }
    event.preventDefault();
    document.querySelectorAll("[data-autosave]").forEach(function (region) {
      if (region._timer) { clearTimeout(region._timer); region._timer = null; }
      if (fieldsOf(region).some(changed)) { enqueue(region); }
    });
    whenIdle(function () { event.detail.issueRequest(true); });
  });
})();

// --- the printed 自评表: a 一级/二级指标 cell that a page break cuts is continued on the next page ---------
// A cell spanning rows (rowspan) is cut by the page break like any box: its words stay on the first
// page and the next page shows an empty cell beside its rows. Before printing, the rows are laid out
// as the print stylesheet lays them out (A4 landscape less the 10 mm margins of app.css's @page,
// 9 pt tables), the page breaks are found (a row is never cut: break-inside avoid; the header repeats),
// and each spanning cell a break cuts is split there: the next page gets its own cell, marked 续.
// After printing the table is put back as it was.
(function () {
  "use strict";
  var MM = 96 / 25.4;
  var PAGE_WIDTH = 277 * MM;
  var PAGE_HEIGHT = 190 * MM;
  var undo = [];

  function measureAll(sheets) {
    // the print stylesheet's sizes, applied for the measuring only (CSSOM, allowed by the CSP), to every
    // sheet at once: one layout for a print of all the year's tables, not one per sheet
    var styled = [];
    function set(el, prop, value) { el.style[prop] = value; styled.push([el, prop]); }
    sheets.forEach(function (sheet) {
      set(sheet, "width", PAGE_WIDTH + "px");
      set(sheet, "padding", "0");
      set(sheet, "boxSizing", "content-box");
      set(sheet, "fontSize", "10.5pt");
      sheet.querySelectorAll("table.form-table").forEach(function (t) { set(t, "fontSize", "9pt"); });
      sheet.querySelectorAll(".no-print").forEach(function (el) { set(el, "display", "none"); });
      sheet.querySelectorAll(".sheet-indicators .repeat-head").forEach(function (el) { set(el, "display", "table-row"); });
    });
    var measured = sheets.map(function (sheet) {
      var table = sheet.querySelector("table.sheet-indicators");
      var top = sheet.getBoundingClientRect().top;
      return {
        table: table,
        head: table.tHead ? table.tHead.getBoundingClientRect().height : 0,
        rows: Array.prototype.slice.call(table.tBodies[0].rows).map(function (row) {
          var box = row.getBoundingClientRect();
          return { row: row, top: box.top - top, height: box.height };
        })
      };
    });
    styled.forEach(function (pair) { pair[0].style[pair[1]] = ""; });
    return measured;
  }

  function breaks(m) {
    // the rows that begin a page: a row that does not fit moves whole to the next page, under the header
    var found = [];
    if (!m.rows.length) { return found; }
    var y = m.rows[0].top;
    m.rows.forEach(function (r, i) {
      if (y + r.height > PAGE_HEIGHT + 0.5 && y > m.head + 1) { found.push(i); y = m.head; }
      y += r.height;
    });
    return found;
  }

  function split(rows, at, selector, before) {
    // the spanning cell (selector) whose rows run across row `at`: cut at `at`, the rest in a new cell
    var row = rows[at];
    if (row.querySelector(selector)) { return; }
    for (var j = at - 1; j >= 0; j--) {
      var cell = rows[j].querySelector(selector);
      if (!cell) { continue; }
      var span = cell.rowSpan;
      if (j + span <= at) { return; }
      var rest = cell.cloneNode(true);
      cell.rowSpan = at - j;
      rest.rowSpan = span - (at - j);
      rest.classList.add("continued");
      row.insertBefore(rest, before(row));
      return;
    }
  }

  window.addEventListener("beforeprint", function () {
    if (undo.length) { return; }
    var sheets = Array.prototype.filter.call(document.querySelectorAll(".print-sheet"), function (sheet) {
      var table = sheet.querySelector("table.sheet-indicators");
      return table && table.tBodies.length;
    });
    measureAll(sheets).forEach(function (m) {
      var found = breaks(m);
      if (!found.length) { return; }
      var body = m.table.tBodies[0];
      undo.push([body, body.cloneNode(true)]);
      var rows = m.rows.map(function (r) { return r.row; });
      found.forEach(function (at) {
        split(rows, at, "th.l1", function (row) { return row.firstElementChild; });
        split(rows, at, "td.l2", function (row) {
          var l1 = row.querySelector("th.l1");
          return l1 ? l1.nextElementSibling : row.firstElementChild;
        });
      });
    });
  });

  window.addEventListener("afterprint", function () {
    undo.splice(0).forEach(function (pair) { pair[0].replaceWith(pair[1]); });
  });
})();
