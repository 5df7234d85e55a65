/* Scan screens: a keyboard-wedge scanner types the code and Enter. The form is sent with
   fetch (one round trip), the answer replaces the task panel, the input is emptied and
   focused again. A refused scan turns the panel red, shakes it, buzzes and beeps.
   Without JavaScript the form posts and the page reloads with the same messages. */
(function () {
  "use strict";
  var audio = null;
  function beep(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = ok ? "sine" : "square";
      osc.frequency.value = ok ? 880 : 160;
      gain.gain.value = ok ? 0.08 : 0.25;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + (ok ? 0.08 : 0.45));
    } catch (e) { /* no audio: colour and vibration still tell */ }
    if (!ok && navigator.vibrate) { navigator.vibrate([120, 60, 120]); }
  }
  function setup(form) {
    var input = form.querySelector("input[name=code]");
    var feedback = document.getElementById("scan-feedback");
    // A scanner can fire the next code before the last answer is back: scans queue up
    // and go one at a time, in order, so none is lost and none overtakes another.
    var queue = [], busy = false;
    function show(data) {
      feedback.textContent = data.message;
      feedback.className = "feedback " + (data.ok ? "ok" : "error");
      feedback.setAttribute("data-ok", data.ok ? "1" : "0");
      if (data.task_html) {
        var holder = document.createElement("div");
        holder.innerHTML = data.task_html;
        var fresh = holder.firstElementChild, old = document.getElementById(fresh.id);
        if (old) { old.replaceWith(fresh); }
      }
      if (data.status) {
        var badge = document.getElementById("pick-status");
        if (badge) { badge.textContent = data.status; badge.className = "badge st-" + data.status; }
      }
      beep(data.ok);
    }
    function next() {
      if (busy || !queue.length) { return; }
      busy = true;
      var body = new FormData(form);
      body.set("code", queue.shift());
      fetch(form.action, {
        method: "POST",
        body: body,
        headers: { "Accept": "application/json", "X-Requested-With": "fetch" },
        credentials: "same-origin"
      }).then(function (response) { return response.json(); })
        .then(show)
        .catch(function () { show({ ok: false, message: "No connection: scan again." }); })
        .finally(function () { busy = false; next(); });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = input.value.trim();
      input.value = "";
      input.focus();
      if (code) { queue.push(code); next(); }
    });
    // Gloves miss the input: tapping anywhere outside a control brings the focus back.
    document.addEventListener("click", function (event) {
      if (!event.target.closest("input, select, textarea, button, a, summary")) { input.focus(); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-scan]").forEach(setup);
  });
})();
