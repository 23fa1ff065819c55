/* tacnet dashboard: live updates. The page works without this file; with it, a page whose
 * <main> names an event stream (data-live) follows the agency's view as it applies events: a
 * list (My cases, the inbox) replaces or inserts only the rows of the event's case, fetched by
 * reference, and other pages refresh their region; the live region announces only events new
 * to this user. No inline script: the CSP forbids it. */
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
  function say(text) { if (status) status.textContent = text; }

  // What this user has already been told of or sent, for this browser session: an event the
  // user published (the page after a form names it, ?published=) or one announced on another
  // page is not news, so the live region stays quiet about it.
  var SEEN = 'tacnet-seen';
  function seen() {
    try { return JSON.parse(window.sessionStorage.getItem(SEEN) || '[]'); } catch (x) { return []; }
  }
  function remember(id) {
    if (!id) return;
    var s = seen();
    if (s.indexOf(id) >= 0) return;
    s.push(id);
    try { window.sessionStorage.setItem(SEEN, JSON.stringify(s.slice(-200))); } catch (x) { /* full */ }
  }
  var published = new URLSearchParams(window.location.search).get('published');
  if (published) remember(published.toLowerCase());
  function isNew(e) {
    if (e.history || !e.msg_id) return false; /* granted on joining: the case's past */
    var s = seen();
    for (var i = 0; i < s.length; i++)
      if (e.msg_id.indexOf(s[i]) === 0) return false; /* ?published= may be a prefix */
    return true;
  }

  // A page with a table of cases or escalations (data-rows names the query parameter that asks
  // the server for one case's rows) patches the rows of the event's case in place; any other
  // live page refreshes its region.
  var table = main.querySelector('table[data-rows]');
  var busy = false, again = false, pending = [];
  function done() {
    busy = false;
    if (pending.length) patch(pending.shift());
    else if (again) { again = false; refresh(); }
  }
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
      .then(done);
  }
  function rowsOf(root, ref) {
    var sel = 'table[data-rows] tbody tr[data-ref="' + (window.CSS && CSS.escape ? CSS.escape(ref) : ref) + '"]';
    return Array.prototype.slice.call(root.querySelectorAll(sel));
  }
  function patch(ref) {
    if (busy) { if (pending.indexOf(ref) < 0) pending.push(ref); return; }
    busy = true;
    var param = table.getAttribute('data-rows'), here = new URL(window.location.href);
    var u = new URL(window.location.href);
    u.searchParams.delete('after');
    u.searchParams.delete('limit');
    u.searchParams.set(param, ref);
    fetch(u.toString(), { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = rowsOf(doc, ref), old = rowsOf(table, ref), body = table.tBodies[0];
        if (!body) return;
        // A new row goes first, where it belongs on the first page sorted by last activity
        // (or, in the inbox, among few); elsewhere it waits for the page to be asked for again.
        var sort = here.searchParams.get('sort') || 'activity';
        var top = param === 'case' || (!here.searchParams.get('after') && sort === 'activity');
        var before = old.length ? old[0] : top ? body.firstChild : null;
        if (!old.length && !top) return;
        fresh.forEach(function (row) {
          var mine = document.importNode(row, true);
          mine.setAttribute('data-live-updated', '');
          body.insertBefore(mine, before);
        });
        old.forEach(function (row) { row.remove(); });
        tick();
      })
      .catch(function () { say('Live updates paused: the row could not be fetched.'); })
      .then(done);
  }
  var source = new EventSource(main.getAttribute('data-live'));
  source.addEventListener('open', function () { say('Live: new events appear here as they arrive.'); });
  source.addEventListener('tacnet', function (ev) {
    var e = {};
    try { e = JSON.parse(ev.data); } catch (x) { return; }
    if (isNew(e)) {
      say('New on ' + (e.case_ref || 'a case') + ': ' + String(e.summary || 'an event') + '.');
      remember(e.msg_id);
    }
    if (table && e.case_ref) patch(e.case_ref);
    else refresh();
  });
  source.addEventListener('error', function () { say('Live updates reconnecting…'); });
  window.addEventListener('pagehide', function () { source.close(); });
})();
