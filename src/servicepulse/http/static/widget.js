/* servicepulse survey widget (docs/widget.md). No dependencies, no inline script or style needed on the host page.

   On the host page:
     <script src="https://survey.example.nl/static/widget.js" defer></script>
     <a href="https://survey.example.nl/a/KEY" data-servicepulse-survey="KEY">Give your feedback</a>
       a button-like link that opens the survey in a modal dialog; without JavaScript it opens the full page
     <div data-servicepulse-survey="KEY" data-servicepulse-display="inline"></div>
       the survey in the page itself
   Optional: data-servicepulse-title (the dialog's name; default the link's text), data-servicepulse-close
   (the close button's text; default by the page's lang), data-servicepulse-lang (nl or en).

   Inside the survey frame (/w/..., marked data-servicepulse-frame) the same file reports the page's height
   to the host page, so the frame fits its content, and passes Escape on, so that it closes the dialog.
   The messages hold nothing but that: {servicepulse: "height", height}, {servicepulse: "page"} (a new page
   was loaded: the host shows its top, where an error summary or the thanks are) and {servicepulse: "close"}. */
(function () {
  "use strict";
  var root = document.documentElement;

  if (root.hasAttribute("data-servicepulse-frame")) {
    if (window.parent === window) return;
    var tell = function (message) { window.parent.postMessage(message, "*"); };
    var lastHeight = 0;
    var report = function () {
      var height = Math.ceil(document.body.getBoundingClientRect().height);
      if (height !== lastHeight) { lastHeight = height; tell({ servicepulse: "height", height: height }); }
    };
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") tell({ servicepulse: "close" });
    });
    if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
    window.addEventListener("load", report);
    report();
    tell({ servicepulse: "page" });  // a new page in the frame (after a submit): the host shows its top
    root.setAttribute("data-servicepulse-ready", "");  // the script is deferred: Escape works from here on
    return;
  }

  var script = document.currentScript;
  if (!script || !script.src) return;
  var base = new URL("../w/", script.src);
  var lang = (root.getAttribute("lang") || "").slice(0, 2).toLowerCase();
  var CLOSE = { nl: "Sluiten", en: "Close" };
  var frames = [];  // {frame, dialog}

  function style(element, rules) {  // through the CSSOM, which a host CSP without 'unsafe-inline' allows
    for (var name in rules) element.style[name] = rules[name];
  }

  function frameFor(element, title) {
    var url = new URL(encodeURIComponent(element.getAttribute("data-servicepulse-survey")), base);
    var language = element.getAttribute("data-servicepulse-lang") || lang;
    if (language === "nl" || language === "en") url.searchParams.set("lang", language);
    var frame = document.createElement("iframe");
    frame.src = url.href;
    frame.title = title;
    style(frame, { display: "block", width: "100%", height: "28rem", border: "0" });
    return frame;
  }

  function inline(element) {
    var frame = frameFor(element, element.getAttribute("data-servicepulse-title") || document.title);
    element.textContent = "";
    element.appendChild(frame);
    frames.push({ frame: frame, dialog: null, pages: 0 });
  }

  var count = 0;
  function dialogFor(opener) {
    var title = opener.getAttribute("data-servicepulse-title") || opener.textContent.trim();
    var dialog = document.createElement("dialog");
    var id = "servicepulse-dialog-" + (++count);
    dialog.setAttribute("aria-modal", "true");
    dialog.setAttribute("aria-labelledby", id);
    style(dialog, { width: "min(40rem, calc(100vw - 1rem))", maxWidth: "none", maxHeight: "calc(100vh - 1rem)",
                    padding: "0", border: "1px solid #6b7480", borderRadius: "0.5rem", background: "#fff",
                    color: "#1b1f24", overflow: "auto", boxShadow: "0 0.5rem 2rem rgba(0, 0, 0, 0.35)" });
    var bar = document.createElement("div");
    style(bar, { display: "flex", alignItems: "center", justifyContent: "space-between", gap: "0.5rem",
                 padding: "0.5rem 0.75rem", borderBottom: "1px solid #d0d5db",
                 font: "1rem/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif" });
    var heading = document.createElement("h2");
    heading.id = id;
    heading.textContent = title;
    style(heading, { margin: "0", fontSize: "1.0625rem", fontWeight: "700" });
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = opener.getAttribute("data-servicepulse-close") || CLOSE[lang] || CLOSE.en;
    style(close, { font: "inherit", fontWeight: "700", minHeight: "2.75rem", minWidth: "2.75rem",
                   padding: "0.25rem 0.75rem", border: "2px solid #0b5cad", borderRadius: "0.375rem",
                   background: "#fff", color: "#0b5cad", cursor: "pointer" });
    close.addEventListener("click", function () { dialog.close(); });
    bar.appendChild(heading);
    bar.appendChild(close);
    var frame = frameFor(opener, title);
    dialog.appendChild(bar);
    dialog.appendChild(frame);
    dialog.addEventListener("close", function () { opener.focus(); });
    document.body.appendChild(dialog);
    frames.push({ frame: frame, dialog: dialog, pages: 0 });
    return dialog;
  }

  function attach(opener) {
    var dialog = null;
    if (opener.tagName === "A") opener.setAttribute("role", "button");
    opener.setAttribute("aria-haspopup", "dialog");
    opener.addEventListener("click", function (event) {
      if (typeof HTMLDialogElement !== "function") return;  // an old browser: the link opens the survey page
      event.preventDefault();
      dialog = dialog || dialogFor(opener);
      if (!dialog.open) dialog.showModal();
    });
    if (opener.tagName === "A") {
      opener.addEventListener("keydown", function (event) {  // a link that acts as a button opens on Space too
        if (event.key === " ") { event.preventDefault(); opener.click(); }
      });
    }
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== base.origin || !event.data || typeof event.data !== "object") return;
    for (var i = 0; i < frames.length; i++) {
      var entry = frames[i];
      if (entry.frame.contentWindow !== event.source) continue;
      if (event.data.servicepulse === "height" && typeof event.data.height === "number") {
        var height = Math.max(120, Math.min(event.data.height, 20000));
        entry.frame.style.height = height + "px";
      } else if (event.data.servicepulse === "close" && entry.dialog && entry.dialog.open) {
        entry.dialog.close();
      } else if (event.data.servicepulse === "page" && entry.pages++ > 0) {
        if (entry.dialog) entry.dialog.scrollTop = 0;
        else entry.frame.scrollIntoView({ block: "start" });
      }
    }
  });

  function start() {
    var elements = document.querySelectorAll("[data-servicepulse-survey]");
    for (var i = 0; i < elements.length; i++) {
      if (elements[i].getAttribute("data-servicepulse-display") === "inline") inline(elements[i]);
      else attach(elements[i]);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
