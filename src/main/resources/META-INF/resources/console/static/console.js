// clipguard console: keyboard shortcuts (loaded as a file; the Content-Security-Policy forbids inline script).
// Upload page: a = AI-generated, r = real, u = unsure, n = next, q = queue. Queue: o = open the first upload to review.
// Keys typed into a field stay in it; Escape leaves the field.
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }
  function click(id) {
    var el = document.getElementById(id);
    if (el) { el.click(); return true; }
    return false;
  }
  var submitted = false;
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e)) {
      if (e.key === "Escape") e.target.blur(); // leave the field, so that the next key is a shortcut again
      return;
    }
    var page = document.body.getAttribute("data-page");
    var handled = false;
    if (page === "upload") {
      var decide = { a: "decide-ai", r: "decide-real", u: "decide-unsure" }[e.key];
      if (decide) {
        if (submitted) { e.preventDefault(); return; } // one decision per page: a held key sends one POST
        handled = click(decide);
        submitted = handled;
      } else if (e.key === "n") {
        handled = click("next");
      } else if (e.key === "q") {
        handled = click("back");
      }
    } else if (page === "queue" && e.key === "o") {
      var first = document.querySelector("#queue tr.alert:not(.reviewed) a.open") || document.querySelector("#queue a.open");
      if (first) { first.click(); handled = true; }
    }
    if (handled) e.preventDefault();
  });
  // A double click on a decision button sends the form once (the server also keeps one record per decision id).
  var form = document.getElementById("decide");
  if (form) {
    form.addEventListener("submit", function (e) {
      if (form.getAttribute("data-sent")) { e.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
    });
  }
})();
