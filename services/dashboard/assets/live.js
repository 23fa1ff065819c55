/* tacnet dashboard: live updates. The page works without this file; with it, a page whose
 * <main> names an event stream (data-live) refreshes that region when the agency's view
 * applies a new event, and says what arrived. No inline script: the CSP forbids it. */
(function () {
  'use strict';
  // Countdowns tick: the server wrote each with its deadline (data-deadline, ms since the epoch)
  // in the same words as below, so a page left open stays true.
  function left(deadline, now) {
    var over = deadline < now, d = Math.abs(deadline - now);
    var h = Math.floor(d / 3600000), m = Math.floor(d / 60000) % 60;
    var span = h >= 24 ? Math.floor(h / 24) + ' days ' + (h % 24) + ' h' : h + ' h ' + m + ' min';
    return { over: over, text: over ? 'overdue by ' + span : span + ' left' };
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll('[data-deadline]').forEach(function (el) {
      var l = left(Number(el.getAttribute('data-deadline')), now);
      if (el.textContent !== l.text) el.textContent = l.text;
      el.className = l.over ? 'overdue' : 'left';
    });
  }
  tick();
  window.setInterval(tick, 30000);
  var main = document.querySelector('main[data-live]');
  if (!main || !window.EventSource) return;
  var status = document.getElementById('live-status');
  var busy = false, again = false;
  function say(text) { if (status) status.textContent = text; }
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html) {
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var fresh = doc.querySelector('main[data-live]');
          if (fresh) main.replaceChildren.apply(main, Array.prototype.slice.call(fresh.childNodes));
          tick();
        }
      })
      .catch(function () { say('Live updates paused: the page could not be refreshed.'); })
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  var source = new EventSource(main.getAttribute('data-live'));
  source.addEventListener('open', function () { say('Live: new events appear here as they arrive.'); });
  source.addEventListener('tacnet', function (ev) {
    var e = {};
    try { e = JSON.parse(ev.data); } catch (x) { return; }
    if (e.history) {
      /* Granted on joining: it belongs to the case's past, so it is shown, not announced. */
      say('Earlier events of ' + (e.case_ref || 'a case') + ' received on joining.');
    } else {
      say('New on ' + (e.case_ref || 'a case') + ': ' + String(e.summary || 'an event') + '.');
    }
    refresh();
  });
  source.addEventListener('error', function () { say('Live updates reconnecting…'); });
  window.addEventListener('pagehide', function () { source.close(); });
})();
