// Live guidance and the copy button. The page works without this file; it
// only adds what needs a script: Server-Sent Events and the clipboard.
(function () {
  "use strict";
  var source = null;
  function connect() {
    var list = document.getElementById("guidance-live");
    if (!list) { return; }
    var url = list.getAttribute("data-events");
    if (source && source.url.endsWith(url)) { return; }
    if (source) { source.close(); }
    source = new EventSource(url);
    source.addEventListener("guidance", function (e) {
      // The server sends the whole list, already escaped, urgent first.
      var target = document.getElementById("guidance-live");
      if (target) { target.innerHTML = e.data; if (window.htmx) { htmx.process(target); } }
    });
  }
  document.addEventListener("DOMContentLoaded", connect);
  document.addEventListener("htmx:afterSettle", connect);
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (!btn) { return; }
    var el = document.getElementById(btn.getAttribute("data-copy"));
    var done = document.getElementById("copy-done");
    if (el && navigator.clipboard) {
      navigator.clipboard.writeText(el.innerText).then(function () {
        if (done) { done.textContent = done.getAttribute("data-text"); }
      });
    }
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-print]")) { window.print(); }
  });
})();
