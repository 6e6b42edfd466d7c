// Small enhancements for the rules page and the share card (the pages work without them).
(function () {
  // "In thể lệ": the browser's print dialog (the print stylesheet makes an A4 document of the page).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  // "Chia sẻ": on phones that can share files, the share sheet with the card; elsewhere the link downloads it.
  // Delegated: the result block arrives later by htmx, once scoring is done.
  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("[data-share]");
    if (!link || !navigator.canShare || !window.fetch) return;
    e.preventDefault();
    fetch(link.href, { credentials: "same-origin" })
      .then(function (r) { return r.blob(); })
      .then(function (blob) {
        var file = new File([blob], link.getAttribute("download") || "ket-qua.png", { type: "image/png" });
        var data = { files: [file], text: link.dataset.shareText || "" };
        if (navigator.canShare(data)) return navigator.share(data);
        window.location.href = link.href;
      })
      .catch(function (err) { if (!err || err.name !== "AbortError") window.location.href = link.href; });
  });
})();
