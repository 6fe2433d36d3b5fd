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
      if (!target) { return; }
      var kept = keepReports(target);
      target.innerHTML = e.data;
      restoreReports(target, kept);
      if (window.htmx) { htmx.process(target); }
    });
  }
  // A report the operator is writing under a guidance item survives the
  // list being drawn again: the form is found again by its item's id.
  function reportForms(root) {
    return Array.prototype.slice.call(root.querySelectorAll("details.report form"));
  }
  function keepReports(root) {
    var kept = {};
    reportForms(root).forEach(function (f) {
      var details = f.closest("details");
      var reason = f.querySelector("input[name=reason]:checked");
      kept[f.elements.item_id.value] = {
        open: details && details.open,
        comment: f.elements.comment.value,
        reason: reason ? reason.value : null,
        focused: f.contains(document.activeElement)
      };
    });
    return kept;
  }
  function restoreReports(root, kept) {
    reportForms(root).forEach(function (f) {
      var k = kept[f.elements.item_id.value];
      if (!k) { return; }
      var details = f.closest("details");
      if (details) { details.open = k.open; }
      f.elements.comment.value = k.comment;
      f.querySelectorAll("input[name=reason]").forEach(function (r) {
        r.checked = r.value === k.reason;
      });
      if (k.focused) { f.elements.comment.focus(); }
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
