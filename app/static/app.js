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
