// The countdown shown to the contestant. The server keeps the real deadline; at zero the page submits itself.
(function () {
  var timer = document.getElementById("timer");
  if (!timer) return;
  var left = parseInt(timer.dataset.secondsLeft, 10);
  var end = Date.now() + left * 1000;
  var clock = document.getElementById("clock");
  var form = document.getElementById("submit-form");
  var submitted = false;
  // Screen readers hear the time sparingly: when it crosses a whole minute, 30 s, 10 s and zero.
  var said = document.getElementById("time-said");
  var mark = null;
  function markOf(s) { return s === 0 ? 0 : s <= 10 ? 10 : s <= 30 ? 30 : Math.ceil(s / 60) * 60; }
  function announce(s) {
    var m = markOf(s);
    if (said && mark !== null && m < mark) {
      said.textContent = m === 0 ? said.dataset.zero
        : m < 60 ? said.dataset.seconds.replace("{n}", m) : said.dataset.minutes.replace("{n}", m / 60);
    }
    mark = m;
  }
  function tick() {
    var s = Math.max(0, Math.round((end - Date.now()) / 1000));
    clock.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    announce(s);
    if (s <= 60) timer.classList.add("low");
    if (s === 0 && !submitted) { submitted = true; form.submit(); return; }
    setTimeout(tick, 1000);
  }
  tick();
  form.addEventListener("submit", function () { submitted = true; });
  function count() {
    // A question counts once, whether answered by one radio button or by several ticked boxes.
    document.getElementById("answered").textContent = Array.prototype.filter.call(
      document.querySelectorAll("form.question fieldset"),
      function (f) { return f.querySelector("input[type=radio]:checked, input[type=checkbox]:checked"); }
    ).length;
  }
  document.addEventListener("change", count);
  // An answer that did not reach the server is retried, and shown as not saved until it does.
  document.body.addEventListener("htmx:sendError", function (e) {
    var el = e.detail.elt;
    var out = el.querySelector && el.querySelector(".saved");
    if (out) { out.textContent = timer.dataset.unsaved; out.classList.add("error"); }
    setTimeout(function () { htmx.trigger(el, "change"); }, 2000);
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target.classList) e.detail.target.classList.toggle("error", e.detail.xhr.status >= 400);
  });
  // Each answer carries the order it was given in: when an earlier one reaches the server after a later one (a
  // replaced request already on its way, a slow connection), the server keeps the later one.
  var last = 0;
  document.body.addEventListener("htmx:configRequest", function (e) {
    if (!/\/attempts\/\d+\/(answers\/\d+|prediction)$/.test(e.detail.path)) return;
    last = Math.max(last + 1, Date.now());
    e.detail.parameters.seq = String(last);
  });
})();
// Behaviour that pages used to carry inline (the Content-Security-Policy allows scripts from /static only).
(function () {
  // The invitation link selects itself, ready to copy.
  document.addEventListener("click", function (e) {
    if (e.target.classList && e.target.classList.contains("invite-link")) e.target.select();
  });
  // Search boxes that htmx answers as you type: Enter does not leave the page.
  document.addEventListener("submit", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-no-submit")) e.preventDefault();
  });
})();
// Long lists of checkboxes (provinces, communes) get a search box that narrows them as you type, tone marks optional.
// Without script they stay a plain scrollable checkbox list.
(function () {
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/\u0111/g, "d").replace(/\u0110/g, "D").toLowerCase();
  }
  function equip(list) {
    if (list.dataset.equipped) return;
    list.dataset.equipped = "1";
    var box = document.createElement("input");
    box.type = "search";
    box.className = "picker-search";
    box.setAttribute("aria-label", list.dataset.picker || "");
    box.placeholder = list.dataset.picker || "";
    box.addEventListener("input", function () {
      var wanted = fold(box.value.trim());
      list.querySelectorAll("label").forEach(function (label) {
        label.hidden = wanted !== "" && fold(label.textContent).indexOf(wanted) < 0;
      });
    });
    box.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
    list.parentNode.insertBefore(box, list);
  }
  function equipAll(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-picker]").forEach(equip);
  }
  // What only an official needs (their communes) shows only when that role is chosen.
  function roleOnly() {
    var role = document.getElementById("role");
    document.querySelectorAll("[data-role-only]").forEach(function (part) {
      part.hidden = !!role && role.value !== part.dataset.roleOnly;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { equipAll(document); roleOnly(); });
  document.addEventListener("change", function (e) { if (e.target.id === "role") roleOnly(); });
  document.addEventListener("htmx:afterSwap", function (e) { equipAll(e.detail.target); });
})();
