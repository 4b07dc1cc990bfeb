// edgepurge on-call console. Vanilla JavaScript, no library, no build step.
//
// Rules this file keeps:
//  - The API token lives in sessionStorage only and goes out only as
//    "Authorization: Bearer" to this origin's JSON API.
//  - Everything that comes from the API (page ids, URLs, tags, errors) is
//    put in the page as text (textContent, text nodes, attribute values),
//    never parsed as HTML: no API that takes an HTML string is used (a
//    test in internal/server greps for them).
//  - No inline script or style (the Content-Security-Policy forbids it),
//    and no console output: a console error is a bug.
'use strict';

(function () {
  const TOKEN_KEY = 'edgepurge.console.token';
  const POLL_MS = 2000;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const state = {
    token: '',
    timer: 0,
    busy: false,
    generation: 0, // bumped at sign-out: answers of an older session are dropped
    open: new Set(), // keys of the expanded <details>
    confirm: '', // key of the replay waiting for its confirmation
    sig: { purges: '', journal: '', dead: '' },
    preview: null, // the manual purge body whose dry run is shown
    refreshFailed: false, // the notice shows a failed refresh
    readyz: undefined, // the last /readyz?verbose answer; null when unreadable, undefined before the first
    backends: null, // the last /v1/backends answer of this refresh, null when unread
    backendsError: '', // why it is null
    dryRun: false, // the last /v1/backends that was read said dry_run
    windowStart: 0, // when the charts' window starts (ms): the list's tally counts from then too
    // The result of each replay, by its button's key, shown beside the
    // button (and, once the entry is gone, where it was) until the next
    // replay of it or "Dismiss": {text, tone, at, pending, entry}.
    replays: new Map(),
    pageQuery: '', // what the page view shows
  };

  const $ = (id) => document.getElementById(id);

  // el builds an element; attrs are set as attributes (text values only),
  // children are nodes or strings (as text nodes).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = String(v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // ---- formatting -------------------------------------------------------

  function ago(iso) {
    if (!iso) return 'never';
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return String(iso);
    return age((Date.now() - t) / 1000) + ' ago';
  }

  function age(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }

  // clock is a time with its date and zone, in UTC as the logs are, so
  // that on-call people in different zones read the same time.
  function clock(t) {
    const d = new Date(t);
    if (Number.isNaN(d.getTime())) return String(t || '');
    return d.toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
  }

  function secs(v) {
    if (!v) return '0 s';
    if (v < 1) return Math.round(v * 1000) + ' ms';
    return (Math.round(v * 100) / 100) + ' s';
  }

  function tone(status) {
    switch (status) {
      case 'purged': case 'ok': case 'verified': return 'ok';
      case 'journaled': case 'dry_run': case 'duplicate': case 'skipped': return 'warn';
      default: return 'bad';
    }
  }

  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : many);
  }

  function badge(text, t) {
    return el('span', { class: 'badge ' + (t || tone(text)) }, text);
  }

  function timeEl(iso, text) {
    return el('time', { datetime: iso, title: iso }, text);
  }

  // ---- the API ----------------------------------------------------------

  class SignedOut extends Error {}

  // api calls the JSON API with the token; a 401 signs out.
  async function api(method, path, body) {
    const gen = state.generation;
    const headers = { Authorization: 'Bearer ' + state.token, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    // A hung instance must not stall the console: reads give up after
    // 10 s, purges and replays (bounded by server.request_timeout) after 60.
    const ctl = new AbortController();
    const limit = method === 'GET' ? 10000 : 60000;
    const timer = setTimeout(() => ctl.abort(), limit);
    init.signal = ctl.signal;
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      if (e && e.name === 'AbortError') throw new Error('edgepurge did not answer ' + method + ' ' + path.split('?')[0] + ' within ' + limit / 1000 + ' s');
      throw new Error('edgepurge could not be reached (' + (e && e.message ? e.message : 'network error') + ')');
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (gen !== state.generation) throw new SignedOut('signed out');
    if (res.status === 401) {
      signOut('The API token was refused (HTTP 401): sign in again.');
      throw new SignedOut('token refused');
    }
    return { status: res.status, ok: res.ok, data: data || {} };
  }

  function errorText(r) {
    const msg = r.data && r.data.error ? r.data.error : 'no message';
    return 'HTTP ' + r.status + ': ' + msg;
  }

  function notice(text, t) {
    const n = $('notice');
    n.className = 'notice' + (t ? ' ' + t : '');
    n.textContent = text;
  }

  // ---- sign in / out ----------------------------------------------------

  async function signIn(token, fromForm) {
    state.token = token;
    const err = $('signin-error');
    err.textContent = '';
    let res;
    try {
      res = await fetch('/v1/stats', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      err.textContent = 'edgepurge could not be reached: ' + e.message;
      state.token = '';
      return;
    }
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      state.token = '';
      err.textContent = fromForm
        ? 'The API token was refused (HTTP 401). Check it against auth.api_token (EDGEPURGE_API_TOKEN).'
        : 'The saved API token was refused (HTTP 401): sign in again.';
      $('token').focus();
      return;
    }
    if (!res.ok && res.status !== 404) {
      err.textContent = 'edgepurge answered HTTP ' + res.status + '; try again.';
      state.token = '';
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    $('signin').hidden = true;
    $('app').hidden = false;
    $('signout').hidden = false;
    document.body.classList.add('signed-in');
    loadVersion();
    refresh();
  }

  function signOut(message) {
    state.generation++;
    state.token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    clearTimeout(state.timer);
    state.timer = 0;
    state.busy = false;
    state.open.clear();
    state.confirm = '';
    state.preview = null;
    state.refreshFailed = false;
    state.readyz = undefined;
    state.backends = null;
    state.backendsError = '';
    state.dryRun = false;
    state.windowStart = 0;
    state.replays.clear();
    state.pageQuery = '';
    $('page-view').hidden = true;
    state.sig = { purges: '', journal: '', dead: '' };
    $('dry-run-banner').hidden = true;
    // Nothing the API said stays in the page.
    for (const id of ['page-view', 'checks-body', 'backends-body', 'purge-list', 'journal-list', 'dead-list', 'dead-actions', 'chart-lag', 'chart-rate', 'p-plan-body', 'p-result']) {
      const n = id === 'checks-body' ? document.querySelector('#checks tbody')
        : id === 'backends-body' ? document.querySelector('#backend-table tbody') : $(id);
      if (n) clear(n);
    }
    for (const id of ['ready-summary', 'backends-summary', 'purges-summary', 'journal-summary', 'dead-summary', 'lag-summary', 'rate-summary', 'notice', 'version', 'p-error']) {
      $(id).textContent = '';
    }
    $('p-plan').hidden = true;
    $('app').hidden = true;
    $('signout').hidden = true;
    $('signin').hidden = false;
    document.body.classList.remove('signed-in');
    $('signin-error').textContent = message || '';
    $('token').focus();
  }

  // ---- polling ----------------------------------------------------------

  async function refresh() {
    if (!state.token || state.busy) return;
    state.busy = true;
    clearTimeout(state.timer);
    const gen = state.generation;
    const results = await Promise.allSettled([loadBackends(), loadReadiness(), loadPurges(), loadJournal(), loadStats(), loadPageView()]);
    if (gen !== state.generation) return;
    state.busy = false;
    // What could not be read is unknown now, not what it was.
    if (results[0].status === 'rejected') {
      state.backends = null;
      state.backendsError = 'the backends report could not be read';
    }
    if (results[1].status === 'rejected') state.readyz = null;
    renderVerdict();
    const failed = results.find((r) => r.status === 'rejected' && !(r.reason instanceof SignedOut));
    if (failed) {
      state.refreshFailed = true;
      notice('Could not refresh: ' + (failed.reason && failed.reason.message ? failed.reason.message : 'unknown error'), 'bad');
    } else if (state.refreshFailed) {
      state.refreshFailed = false;
      notice('');
    }
    if (state.token) state.timer = setTimeout(refresh, POLL_MS);
  }

  async function loadVersion() {
    try {
      const r = await api('GET', '/version');
      $('version').textContent = r.ok && r.data.version ? 'version ' + r.data.version : '';
    } catch (e) {
      // Shown as missing; readiness says more.
    }
  }

  // ---- backends ---------------------------------------------------------

  // loadBackends reads GET /v1/backends: one row per backend target (Redis,
  // each Cloudflare zone, Fastly service, Akamai network, Varnish node, CloudFront
  // distribution), from the calls
  // this instance made to it, probes included.
  async function loadBackends() {
    const r = await api('GET', '/v1/backends');
    const sum = $('backends-summary');
    const body = document.querySelector('#backend-table tbody');
    if (!r.ok || !Array.isArray(r.data.backends)) {
      state.backendsError = r.status === 404
        ? 'this instance has no backends report (GET /v1/backends answered 404)'
        : 'the backends report could not be read: ' + errorText(r);
      state.backends = null;
      renderVerdict();
      clear(sum);
      sum.append(badge('unknown', 'warn'), ' ' + state.backendsError[0].toUpperCase() + state.backendsError.slice(1) + '.');
      clear(body);
      return;
    }
    const d = r.data;
    state.backends = d;
    state.backendsError = '';
    state.dryRun = d.dry_run === true;
    $('dry-run-banner').hidden = !state.dryRun;
    const list = d.backends;
    const count = (st) => list.filter((b) => b.state === st).length;
    const parts = [];
    for (const st of ['failing', 'degraded', 'ok', 'unknown']) {
      const n = count(st);
      if (n) parts.push(n + ' ' + st);
    }
    clear(sum);
    sum.append(plural(list.length, 'backend target', 'backend targets') + (parts.length ? ': ' + parts.join(', ') : '') + '. ',
      el('span', { class: 'muted small' }, 'Failing: no successful purge for ' + (d.window_seconds || 30) + ' s while purges failed. Updated ' + clock(Date.now()) + '.'));
    clear(body);
    if (!list.length) {
      body.append(el('tr', {}, el('td', { colspan: 8, class: 'empty' }, 'No backend is configured.')));
      return;
    }
    // Rebuilt on every poll: the ages move, and no row holds state.
    for (const b of list) body.append(backendRow(b));
    // The verdict changes with the rows, in the same task: the page never
    // shows a failing row under a green verdict.
    renderVerdict();
  }

  const STATE_TONE = { ok: 'ok', degraded: 'warn', failing: 'bad', unknown: 'none' };

  function backendName(b) {
    return b.check || ((b.backend || '?') + (b.target ? ' ' + b.target : ''));
  }

  function backendRow(b) {
    const st = b.state || 'unknown';
    const stateCell = el('td', { class: 'state', 'data-label': 'state' }, badge(st, STATE_TONE[st] || 'bad'));
    if (b.failing_since && st !== 'ok') stateCell.append(el('span', { class: 'sub-line' }, 'failing for ' + age((Date.now() - Date.parse(b.failing_since)) / 1000)));
    if (st === 'unknown') stateCell.append(el('span', { class: 'sub-line' }, 'no call yet'));
    const budget = el('td', { class: 'budget', 'data-label': 'budget used (1 min)' });
    if (b.budget && b.budget.length) {
      for (const x of b.budget) budget.append(el('span', { class: 'sub-line mono' }, (x.bucket || 'calls') + ' ' + (x.used_1m || 0) + ' / ' + (x.limit_1m || 0)));
    } else {
      budget.append(el('span', { class: 'muted', title: 'no rate budget' }, '—'));
    }
    const errCell = el('td', { class: 'error-text', 'data-label': 'last error' });
    if (b.error) {
      errCell.append(el('span', { class: st === 'ok' ? 'muted' : '' }, b.error));
      if (b.last_failure) errCell.append(el('span', { class: 'sub-line' }, timeEl(b.last_failure, ago(b.last_failure))));
    } else {
      errCell.append(el('span', { class: 'muted' }, '—'));
    }
    return el('tr', { 'data-check': backendName(b), 'data-backend': b.backend || '', 'data-target': b.target || '', 'data-state': st },
      el('th', { scope: 'row' }, el('span', { class: 'mono' }, backendName(b))),
      stateCell,
      el('td', { class: 'last-success', 'data-label': 'last successful purge' }, b.last_success ? timeEl(b.last_success, ago(b.last_success)) : 'never'),
      el('td', { class: 'calls', 'data-label': 'failed / calls (5 min)' }, (b.failures_5m || 0) + ' / ' + (b.calls_5m || 0)),
      el('td', { class: 'breaker', 'data-label': 'breaker' }, breakerCell(b.breaker)),
      queueCell(b),
      budget,
      errCell);
  }

  // queueCell is the items waiting in the queues and, for CloudFront, the
  // invalidations made and not yet seen Completed.
  function queueCell(b) {
    const cell = el('td', { class: 'queue', 'data-label': 'queue' }, String(b.queue_depth || 0));
    if (b.invalidations_in_progress) cell.append(el('span', { class: 'sub-line' }, plural(b.invalidations_in_progress, 'invalidation', 'invalidations') + ' in progress'));
    return cell;
  }

  function breakerCell(s) {
    if (!s) return el('span', { class: 'muted', title: 'this backend has no circuit breaker' }, '—');
    if (s === 'closed') return 'closed';
    return badge(s, s === 'open' ? 'bad' : 'warn');
  }

  // verdict is the readiness badge: /readyz and /v1/backends together, so
  // that it is never plain green while a backend purges nothing.
  function verdict() {
    const rz = state.readyz;
    const list = state.backends ? state.backends.backends : [];
    const names = (st) => list.filter((b) => b.state === st).map(backendName);
    const failing = names('failing');
    const degraded = names('degraded');
    const alsoDegraded = rz ? rz.degraded.filter((c) => !failing.includes(c)) : [];
    const more = alsoDegraded.length ? ['degraded: ' + alsoDegraded.join(', ')] : [];
    if (failing.length) {
      const notReady = rz && rz.ready === false && rz.failing.length ? ['not ready: ' + rz.failing.join(', ')] : [];
      return { tone: 'bad', text: 'NOT PURGING: ' + failing.join(', '), more: notReady.concat(more) };
    }
    if (rz === undefined) return { tone: 'none', text: 'checking…', more };
    if (!rz) return { tone: 'bad', text: 'UNKNOWN: readiness could not be read', more };
    if (typeof rz.ready !== 'boolean') return { tone: 'bad', text: 'UNKNOWN: ' + rz.error, more };
    if (rz.ready === false) return { tone: 'bad', text: 'NOT READY: ' + (rz.failing.join(', ') || 'no check named'), more };
    const warn = [...new Set(degraded.concat(rz.degraded))];
    if (warn.length) return { tone: 'warn', text: 'DEGRADED: ' + warn.join(', '), more: [] };
    if (!state.backends && !state.backendsError) return { tone: 'none', text: 'checking…', more: [] };
    if (!state.backends) return { tone: 'warn', text: 'ready, backends unknown', more: [state.backendsError] };
    if (state.dryRun) return { tone: 'warn', text: 'ready, DRY RUN: purges nothing', more: [] };
    const uncalled = list.filter((b) => b.state !== 'ok').length;
    return { tone: 'ok', text: 'ready', more: [uncalled ? plural(uncalled, 'backend', 'backends') + ' not called yet' : list.length ? 'every backend purging' : ''] };
  }

  function renderVerdict() {
    const v = verdict();
    const sum = $('ready-summary');
    clear(sum);
    sum.append(el('span', { class: 'verdict ' + v.tone, 'data-verdict': v.tone }, v.text));
    const more = v.more.filter(Boolean);
    if (more.length) sum.append(' ' + more.join('; '));
  }

  // ---- readiness --------------------------------------------------------

  async function loadReadiness() {
    const r = await api('GET', '/readyz?verbose');
    const d = r.data;
    state.readyz = { ready: d.ready, failing: d.failing || [], degraded: d.degraded || [], error: typeof d.ready === 'boolean' ? '' : errorText(r) };
    renderVerdict();
    const body = document.querySelector('#checks tbody');
    clear(body);
    for (const c of d.checks || []) {
      const stateCell = c.ok ? badge('ok', 'ok') : badge(c.gating ? 'failing' : 'failing (shared)', c.gating ? 'bad' : 'warn');
      body.append(el('tr', { 'data-check': c.name },
        el('th', { scope: 'row', class: 'mono' }, c.name),
        el('td', {}, c.scope || ''),
        el('td', {}, stateCell),
        el('td', {}, c.last_success ? timeEl(c.last_success, ago(c.last_success)) : 'never'),
        el('td', {}, c.error || (c.failing_since ? 'since ' + ago(c.failing_since) : ''))));
    }
  }

  // ---- recent purges ----------------------------------------------------

  // The list shows up to ROWS rows; it reads more records than that, since
  // the re-drive attempts of one entry share a row.
  const ROWS = 50;
  const READ = 200;

  function purgeQuery() {
    const q = new URLSearchParams({ limit: String(READ) });
    const page = $('f-page').value.trim();
    if (page) q.set('page_id', page);
    if ($('f-status').value) q.set('status', $('f-status').value);
    if ($('f-source').value) q.set('source', $('f-source').value);
    return '/v1/purges?' + q.toString();
  }

  async function loadPurges() {
    const path = purgeQuery();
    const r = await api('GET', path);
    const list = $('purge-list');
    const sum = $('purges-summary');
    if (!r.ok) {
      sum.textContent = 'The audit trail could not be read: ' + errorText(r);
      clear(list);
      state.sig.purges = '';
      return;
    }
    const recs = r.data.records || [];
    const rows = groupRedrives(recs).slice(0, ROWS);
    const shown = rows.reduce((n, row) => n + (row.attempts ? row.attempts.length : 1), 0);
    const grouped = rows.filter((row) => row.attempts && row.attempts.length > 1).length;
    const since = state.windowStart || Date.now() - 15 * 60 * 1000;
    // Every record read is in the window: older ones may be too.
    const full = recs.length === READ && Date.parse(recs[READ - 1].time) >= since;
    sum.textContent = plural(shown, 'purge', 'purges') + ', newest first' +
      (grouped ? ' (the re-drive attempts of ' + plural(grouped, 'journal entry', 'journal entries') + ' grouped, a row each)' : '') +
      (r.data.from === 'memory' ? ' (from this instance\'s memory only: ' + (r.data.warning || 'Redis unreadable') + ')' : ' (every instance)') +
      '; in the charts\' window (since ' + clock(since) + '): ' + (full ? 'at least ' : '') + tally(tallyOf(recs, since)) + '; updated ' + clock(Date.now());
    const sig = path + JSON.stringify(rows);
    if (sig === state.sig.purges) return;
    state.sig.purges = sig;
    clear(list);
    if (!rows.length) {
      list.append(el('li', { class: 'empty' }, 'No purges match.'));
      return;
    }
    for (const row of rows) list.append(row.attempts ? redriveGroup(row) : el('li', {}, purgeItem(row.rec, false)));
  }

  // ---- the page view ----------------------------------------------------

  // The page view shows what the search box names: a page (GET
  // /v1/pages/{id}: its hostnames, where they come from, and the plan an
  // incident update would make) or, for a hostname no page id matches,
  // the pages that have it (GET /v1/pages?host=). It is read when the
  // search changes, not at every refresh.
  async function loadPageView() {
    const q = $('f-page').value.trim();
    const box = $('page-view');
    if (q === state.pageQuery) return;
    state.pageQuery = q;
    clear(box);
    box.hidden = !q;
    if (!q) return;
    const r = await api('GET', '/v1/pages/' + encodeURIComponent(q));
    if (q !== state.pageQuery) return;
    if (r.ok) {
      box.append(pageView(r.data));
      return;
    }
    if (r.status === 404 && q.includes('.')) {
      const h = await api('GET', '/v1/pages?' + new URLSearchParams({ host: q, limit: '20' }).toString());
      if (q !== state.pageQuery) return;
      if (h.ok && (h.data.pages || []).length) {
        box.append(hostView(q, h.data.pages, h.data.cursor));
        return;
      }
    }
    const why = r.status === 404 ? 'No page "' + q + '": ' + ((r.data && r.data.error) || 'not found') : 'The page could not be read: ' + errorText(r);
    box.append(el('p', { class: 'muted', 'data-page-missing': q }, why));
  }

  function pageView(v) {
    const view = el('div', { class: 'page', 'data-page': v.id });
    view.append(el('h3', {}, 'Page ', el('span', { class: 'id' }, v.id), ' ', badge(v.source, v.problem ? 'bad' : 'ok')));
    const rows = [
      ['hostnames', el('ul', { class: 'items', 'aria-label': 'hostnames of ' + v.id }, ...(v.hosts || []).map((h) => el('li', {}, h)))],
      ['zone', v.zone || ('the default zone' + (v.plan && v.plan.zone ? ' (' + v.plan.zone + ')' : ''))],
      ['from', v.source === 'config' ? 'the config file (pages.' + v.id + ')' : v.source === 'registry' ? 'the page registry' : 'the default rule'],
    ];
    const opts = {};
    for (const k of ['schemes', 'paths', 'tags', 'keys', 'key_sets', 'cdn_order', 'soft_purge', 'cover']) {
      if (v[k] !== undefined) opts[k] = v[k];
    }
    if (Object.keys(opts).length) rows.push(['options', el('code', {}, JSON.stringify(opts))]);
    if (v.etag) rows.push(['version', v.etag]);
    view.append(dl(rows));
    if (v.problem) view.append(el('p', { class: 'error', role: 'alert' }, 'Its events are refused until the entry is fixed: ' + v.problem));
    if (v.plan_error) view.append(el('p', { class: 'warning' }, 'Planning refuses the page: ' + v.plan_error));
    const p = v.plan;
    if (p) {
      const plan = el('div', { class: 'answer plan', 'data-plan-of': v.id });
      plan.append(el('p', {}, 'An incident update purges ' + plural((p.urls || []).length, 'URL', 'URLs') + ', ' +
        plural((p.tags || []).length, 'tag', 'tags') + ' and ' + plural((p.keys || []).length + (p.key_sets || []).length, 'key', 'keys') +
        (p.zone ? ' in zone ' + p.zone : '') + ':'));
      for (const w of p.warnings || []) plan.append(el('p', { class: 'warning' }, w));
      for (const [label, items] of [['URLs', p.urls], ['tags', p.tags], ['keys', p.keys], ['key sets', p.key_sets]]) {
        if (items && items.length) plan.append(itemList(label, items));
      }
      view.append(plan);
    }
    const changes = v.changes || [];
    if (changes.length) {
      const ol = el('ol', { class: 'list', 'aria-label': 'changes of ' + v.id + ', newest first' });
      for (const c of changes) {
        ol.append(el('li', {}, timeEl(c.time, clock(c.time)), ' ', badge(c.result, 'ok'), ' by ', el('span', { class: 'id' }, c.actor || '?'),
          c.after ? ': ' + (c.after.hosts || []).join(', ') : ''));
      }
      view.append(el('div', {}, el('strong', {}, 'Changes'), ol));
    }
    return view;
  }

  function hostView(host, pages, more) {
    const view = el('div', { class: 'page', 'data-host': host });
    view.append(el('h3', {}, 'Pages with the hostname ', el('span', { class: 'id' }, host)));
    const ul = el('ul', { class: 'items' });
    for (const pg of pages) {
      ul.append(el('li', {}, el('span', { class: 'id' }, pg.id), ' ', badge(pg.source, pg.problem ? 'bad' : 'ok'), ' ', (pg.hosts || []).join(', ')));
    }
    view.append(ul);
    if (more) view.append(el('p', { class: 'muted small' }, 'More pages may have it: edgepurge pages list --host ' + host));
    return view;
  }

  // groupRedrives turns the records (newest first) into rows: a record of
  // its own, or every re-drive attempt of one journal entry together. A
  // re-drive is recorded with the event id of the entry it re-drives (the
  // journal entry's event_id), so that id ties the attempts to their entry.
  // A group stands where its newest attempt is, its attempts newest first.
  function groupRedrives(recs) {
    const rows = [];
    const groups = new Map();
    for (const rec of recs) {
      if (rec.source !== 'redrive' || !rec.id) {
        rows.push({ rec });
        continue;
      }
      let g = groups.get(rec.id);
      if (!g) {
        g = { id: rec.id, attempts: [] };
        groups.set(rec.id, g);
        rows.push(g);
      }
      g.attempts.push(rec);
    }
    return rows;
  }

  function redriveGroup(g) {
    const newest = g.attempts[0];
    const oldest = g.attempts[g.attempts.length - 1];
    const n = g.attempts.length;
    const tally = new Map();
    for (const a of g.attempts) tally.set(a.status, (tally.get(a.status) || 0) + 1);
    const key = 'redrive|' + g.id;
    const d = details(key, [timeEl(newest.time, clock(newest.time)), badge(newest.status), el('span', { class: 'muted' }, 'redrive'),
      el('span', { class: 'id' }, newest.page ? 'page ' + newest.page : '(no page)'),
      el('span', { class: 'id muted' }, g.id),
      el('span', { class: 'count' }, plural(n, 're-drive attempt', 're-drive attempts')),
      n > 1 ? el('span', { class: 'muted small' }, [...tally].map(([st, c]) => c + ' ' + st).join(', ') + '; first ' + clock(oldest.time)) : null]);
    d.dataset.redriveOf = g.id;
    d.dataset.attempts = String(n);
    const ol = el('ol', { class: 'list attempts', 'aria-label': 're-drive attempts of ' + g.id + ', newest first' });
    for (const a of g.attempts) ol.append(el('li', {}, purgeItem(a, true)));
    d.append(el('div', { class: 'detail' }, ol));
    return el('li', { class: 'group' }, d);
  }

  // purgeItem is one audit record; an attempt of a re-drive group is
  // marked as such rather than by its event id, which the event's own
  // record (and the group) already carry.
  function purgeItem(rec, attempt) {
    const key = 'purge|' + rec.time + '|' + rec.source + '|' + rec.id;
    const d = details(key,
      [timeEl(rec.time, clock(rec.time)), badge(rec.status), el('span', { class: 'muted' }, rec.source),
        el('span', { class: 'id' }, rec.page ? 'page ' + rec.page : '(no page)'),
        el('span', { class: 'id muted' }, rec.id),
        el('span', { class: 'muted small' }, Math.round((rec.duration_ms || 0) * 10) / 10 + ' ms')]);
    if (attempt) d.dataset.attempt = rec.id;
    else d.dataset.id = rec.id;
    d.dataset.page = rec.page || '';
    const p = rec.plan || {};
    const plan = [plural(p.urls || 0, 'URL', 'URLs'), plural(p.tags || 0, 'tag', 'tags'), plural(p.keys || 0, 'key', 'keys')];
    if (p.hosts) plan.push(plural(p.hosts, 'host', 'hosts'));
    if (p.prefixes) plan.push(plural(p.prefixes, 'prefix', 'prefixes'));
    if (p.everything) plan.push('everything');
    const body = el('div', { class: 'detail' },
      el('h4', { class: 'visually-hidden' }, 'Plan'),
      dl([
        ['time', rec.time],
        ['event id', rec.id],
        ['page', rec.page || '—'],
        ['zone', rec.zone || '—'],
        ['HTTP status', rec.http_status || '— (not over HTTP)'],
        ['plan', plan.join(', ')],
      ]),
      resultsTable(rec.results || []));
    body.classList.add('plan');
    d.append(body);
    return d;
  }

  // details makes a <details> whose open state survives re-rendering.
  function details(key, summaryParts) {
    const d = el('details', { 'data-key': key });
    if (state.open.has(key)) d.open = true;
    d.addEventListener('toggle', () => {
      if (d.open) state.open.add(key);
      else state.open.delete(key);
    });
    d.append(el('summary', {}, ...summaryParts));
    return d;
  }

  function dl(rows) {
    const d = el('dl');
    for (const [k, v] of rows) {
      d.append(el('dt', {}, k), el('dd', {}, v instanceof Node ? v : String(v)));
    }
    return d;
  }

  function resultsTable(results) {
    if (!results.length) return el('p', { class: 'muted' }, 'No backend results.');
    const body = el('tbody');
    for (const r of results) {
      body.append(el('tr', { 'data-backend': r.backend },
        el('th', { scope: 'row' }, r.backend),
        el('td', {}, badge(r.status)),
        el('td', {}, String(r.items || 0)),
        el('td', {}, r.calls ? String(r.calls) : ''),
        el('td', {}, r.duration_ms !== undefined ? Math.round(r.duration_ms * 10) / 10 + ' ms' : ''),
        el('td', {}, r.error || '')));
    }
    return el('div', { class: 'scroll' }, el('table', { class: 'results' },
      el('caption', { class: 'visually-hidden' }, 'Results per backend'),
      el('thead', {}, el('tr', {}, ...['backend', 'status', 'items', 'calls', 'duration', 'error'].map((h) => el('th', { scope: 'col' }, h)))),
      body));
  }

  // ---- the journal ------------------------------------------------------

  async function loadJournal() {
    const [j, dead] = await Promise.all([api('GET', '/v1/journal?limit=100'), api('GET', '/v1/journal/dead?limit=100')]);
    renderJournal(j, false);
    renderJournal(dead, true);
  }

  function renderJournal(r, dead) {
    const sum = $(dead ? 'dead-summary' : 'journal-summary');
    const list = $(dead ? 'dead-list' : 'journal-list');
    const sigKey = dead ? 'dead' : 'journal';
    clear(sum);
    if (!r.ok) {
      sum.textContent = (dead ? 'Dead letters' : 'The journal') + ' could not be read: ' + errorText(r);
      clear(list);
      state.sig[sigKey] = '';
      if (dead) clear($('dead-actions'));
      return;
    }
    const d = r.data;
    const n = d.total || 0;
    if (dead) {
      sum.append(badge(n + (n === 1 ? ' dead letter' : ' dead letters'), n ? 'bad' : 'ok'));
    } else {
      sum.append(badge(n + (n === 1 ? ' entry' : ' entries') + ' to re-drive', n ? 'warn' : 'ok'));
    }
    if (d.oldest_first_failure) sum.append(' oldest first failed ' + ago(d.oldest_first_failure));
    const entries = d.entries || [];
    if (entries.length < n) sum.append(' (the oldest ' + entries.length + ' listed)');
    // idle_ms changes on every poll; the list is rebuilt only when the
    // entries themselves, the replay awaiting confirmation or a replay's
    // result change.
    const prefix = dead ? 'dead|' : 'journal|';
    const results = [...state.replays].filter(([k]) => k.startsWith(prefix));
    const sig = state.confirm + JSON.stringify(entries.map((e) => [e.id, e.attempts, e.error, e.consumer])) + JSON.stringify(results);
    if (sig === state.sig[sigKey]) return;
    state.sig[sigKey] = sig;
    clear(list);
    if (dead) renderDeadActions(n);
    if (!entries.length) list.append(el('li', { class: 'empty' }, dead ? 'No dead letters.' : 'Nothing to re-drive.'));
    for (const e of entries) list.append(journalItem(e, dead));
    // An entry a replay purged is gone from the list; its result stays
    // where it was, beside the entry's name, until dismissed.
    const listed = new Set(entries.map((e) => prefix + e.id));
    for (const [key, res] of results) {
      if (res.gone && res.entry && !listed.has(key)) list.append(replayedItem(key, res));
    }
  }

  function journalItem(e, dead) {
    const key = (dead ? 'dead|' : 'journal|') + e.id;
    const d = details(key, [
      el('span', { class: 'id' }, e.id),
      el('span', { class: 'id' }, e.page ? 'page ' + e.page : '(no page)'),
      el('span', { class: 'muted' }, (e.backends || []).join(' → ')),
      el('span', { class: 'muted small' }, 'first failed ' + ago(e.first_failure) + ', ' + plural(e.attempts || 0, 'attempt', 'attempts')),
    ]);
    d.dataset.id = e.id;
    const rows = [
      ['event id', e.event_id],
      ['source', e.source],
      ['page', e.page || '—'],
      ['zone', e.zone || '—'],
      ['backends left', (e.backends || []).join(', ')],
      ['first failure', e.first_failure],
      ['attempts', e.attempts],
      ['last error', e.error || '—'],
    ];
    if (dead) {
      rows.push(['dead since', e.dead_at], ['why', e.reason || '—'], ['journal id', e.journal_id || '—']);
    } else if (e.consumer) {
      rows.push(['held by', e.consumer + ' (idle ' + age((e.idle_ms || 0) / 1000) + ')']);
    }
    const body = el('div', { class: 'detail' }, dl(rows));
    for (const [label, items] of [['URLs', e.urls], ['tags', e.tags], ['hosts', e.hosts], ['prefixes', e.prefixes], ['keys', e.keys], ['key sets', e.key_sets]]) {
      if (items && items.length) body.append(itemList(label, items));
    }
    if (e.everything) body.append(el('p', {}, 'everything (the whole zone)'));
    d.append(body);
    const path = dead ? '/v1/journal/dead/' + encodeURIComponent(e.id) + '/replay' : '/v1/journal/' + encodeURIComponent(e.id) + '/replay';
    const entry = { id: e.id, event_id: e.event_id || '', page: e.page || '' };
    return el('li', {}, d, confirmButton(key, 'Replay now', 'Confirm: replay ' + e.id + ' now', path, entry, (r) => {
      const res = r.data;
      if (r.status === 404) return ['Entry ' + e.id + ' is gone (already purged).', '', true];
      if (r.status === 409) return ['Not replayed: ' + errorText(r), 'warn', false];
      if (!r.ok && !res.status) return ['Replay of ' + e.id + ' failed: ' + errorText(r), 'bad', false];
      return res.status === 'purged'
        ? ['Replayed ' + e.id + ': purged.' + (res.error ? ' ' + res.error : ''), 'ok', true]
        : ['Replayed ' + e.id + ': still failing: ' + (res.error || res.status), 'bad', false];
    }));
  }

  // replayedItem stands where an entry a replay purged was.
  function replayedItem(key, res) {
    const e = res.entry;
    return el('li', { class: 'replayed', 'data-replayed': e.id },
      el('span', { class: 'id' }, e.id), ' ', el('span', { class: 'id' }, e.page ? 'page ' + e.page : '(no page)'), ' ',
      el('span', { class: 'id muted' }, e.event_id), ' ', el('span', { class: 'muted small' }, 'replayed, no longer in the list'),
      el('div', { class: 'actions' }, replayResult(key, res)));
  }

  // replayResult is a replay's outcome, shown beside its button.
  function replayResult(key, res) {
    const p = el('p', { class: 'replay-result' + (res.tone ? ' ' + res.tone : ''), role: 'status', 'data-result-for': key },
      res.text, ' ', el('span', { class: 'muted small' }, '(' + clock(res.at) + ')'));
    if (!res.pending) {
      const x = el('button', { type: 'button', class: 'secondary small', 'data-dismiss': key }, 'Dismiss');
      x.addEventListener('click', () => {
        state.replays.delete(key);
        state.sig.journal = state.sig.dead = '';
        const li = p.closest('li.replayed');
        if (li) li.remove();
        else p.remove();
      });
      p.append(' ', x);
    }
    return p;
  }

  // itemList lists the first SHOWN items; the rest open from a "+N more"
  // line, so a long list is never cut off without a word.
  const SHOWN = 8;

  function itemList(label, items) {
    const list = (part) => el('ul', { class: 'items', 'aria-label': label }, ...part.map((it) => el('li', {}, it)));
    const box = el('div', {}, el('strong', {}, label + ' (' + items.length + ')'), list(items.slice(0, SHOWN)));
    if (items.length > SHOWN) box.append(el('details', { class: 'more' }, el('summary', {}, '+' + (items.length - SHOWN) + ' more'), list(items.slice(SHOWN))));
    return box;
  }

  function renderDeadActions(n) {
    const box = $('dead-actions');
    clear(box);
    if (!n && !state.replays.has('dead|all')) return;
    box.append(confirmButton('dead|all', 'Replay all dead letters', n === 1 ? 'Confirm: replay the dead letter now' : 'Confirm: replay all ' + n + ' dead letters now', '/v1/journal/dead/replay', null, (r) => {
      if (r.status === 409) return ['Not replayed: ' + errorText(r), 'warn', false];
      if (!r.ok) return ['Replay of the dead letters failed: ' + errorText(r), 'bad', false];
      const d = r.data;
      return ['Replayed ' + plural((d.replayed || []).length, 'dead letter', 'dead letters') + ': ' + (d.purged || 0) + ' purged, ' + (d.failed || 0) + ' still failing.', d.failed ? 'bad' : 'ok', false];
    }));
  }

  // confirmButton asks first, then posts to path; describe turns the
  // answer into [text, tone, gone] (gone: the entry left the list), shown
  // beside the button (and in the notice) until the next replay of it.
  // entry ({id, event_id, page}) names the entry where it was once gone.
  function confirmButton(key, label, confirmLabel, path, entry, describe) {
    const box = el('div', { class: 'actions', 'data-actions-for': key });
    const again = () => confirmButton(key, label, confirmLabel, path, entry, describe);
    const res = state.replays.get(key);
    if (res && res.pending) {
      box.append(el('button', { type: 'button', class: 'secondary', 'data-action': 'replay', disabled: true }, label), replayResult(key, res));
      return box;
    }
    if (state.confirm !== key) {
      const b = el('button', { type: 'button', class: 'secondary', 'data-action': 'replay' }, label);
      b.addEventListener('click', () => {
        state.confirm = key;
        state.sig.journal = state.sig.dead = '';
        box.replaceWith(again());
        const c = document.querySelector('[data-confirm="' + CSS.escape(key) + '"]');
        if (c) c.focus();
      });
      box.append(b);
      if (res) box.append(replayResult(key, res));
      return box;
    }
    const yes = el('button', { type: 'button', class: 'danger', 'data-confirm': key }, confirmLabel);
    const no = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
    // show puts the current state of the replay beside the button, wherever
    // the list has been rebuilt to meanwhile.
    const show = () => {
      const cur = document.querySelector('[data-actions-for="' + CSS.escape(key) + '"]');
      if (cur) cur.replaceWith(again());
    };
    yes.addEventListener('click', async () => {
      yes.disabled = no.disabled = true;
      state.confirm = '';
      state.replays.set(key, { text: 'Replaying…', tone: '', at: Date.now(), pending: true, entry });
      show();
      notice('Replaying…');
      let out;
      try {
        const r = await api('POST', path);
        const [text, t, gone] = describe(r);
        out = { text, tone: t, at: Date.now(), gone: !!gone, entry };
      } catch (e) {
        if (e instanceof SignedOut) return;
        out = { text: 'Replay failed: ' + e.message, tone: 'bad', at: Date.now(), gone: false, entry };
      }
      state.replays.set(key, out);
      notice(out.text, out.tone);
      show();
      state.sig.journal = state.sig.dead = state.sig.purges = '';
      refresh();
    });
    no.addEventListener('click', () => {
      state.confirm = '';
      state.sig.journal = state.sig.dead = '';
      box.replaceWith(again());
    });
    box.append(yes, no);
    return box;
  }

  // ---- charts -----------------------------------------------------------

  // The kind of each status, as package history sorts the purges it
  // charts: the list beside the charts counts with the same rule.
  const KIND = { purged: 'ok', journaled: 'journaled', dry_run: 'dry_run' };

  function tallyOf(recs, since) {
    const t = { purges: 0, ok: 0, journaled: 0, failed: 0, dry_run: 0 };
    for (const r of recs) {
      if (Date.parse(r.time) < since) continue;
      t.purges++;
      t[KIND[r.status] || 'failed']++;
    }
    return t;
  }

  function tally(t) {
    return plural(t.purges || 0, 'purge', 'purges') + ': ' + (t.ok || 0) + ' purged, ' + (t.journaled || 0) + ' journaled, ' +
      (t.failed || 0) + ' failed (partial, failed or stale), ' + plural(t.dry_run || 0, 'dry run', 'dry runs') + ' (nothing purged)';
  }

  async function loadStats() {
    const r = await api('GET', '/v1/stats');
    if (!r.ok) {
      $('lag-summary').textContent = 'No recent history: ' + errorText(r);
      return;
    }
    const s = r.data;
    const slots = s.slots || [];
    const t = s.totals || {};
    const mins = (s.window_seconds || 900) / 60;
    const slot = s.slot_seconds || 10;
    state.windowStart = Date.parse(t.start) || 0;
    $('lag-caption').textContent = 'Freshness lag: the p99 of each ' + slot + ' s';
    $('rate-caption').textContent = 'Purges of each ' + slot + ' s, by how they ended';
    lagChart(slots, t, slot);
    rateChart(slots, t, mins, slot);
  }

  const W = 360;
  const H = 100;

  function chartSVG(label) {
    const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img', 'aria-label': label });
    const title = svg('title');
    title.textContent = label;
    s.append(title, svg('line', { class: 'axis', x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5 }));
    return s;
  }

  // plot puts the chart s in box between its axes: the count (y) from 0 to
  // top, and the time (x) of the slots, from the first one's start to now.
  function plot(box, s, top, yTitle, slots, slot) {
    const from = slots.length ? slots[0].start : '';
    const to = slots.length ? Date.parse(slots[slots.length - 1].start) + slot * 1000 : '';
    clear(box);
    box.append(el('div', { class: 'y-axis' }, el('span', {}, top), el('span', { class: 'axis-title' }, yTitle), el('span', {}, '0')),
      s,
      el('div', { class: 'x-axis' }, el('span', {}, clock(from).slice(11, 16)), el('span', { class: 'axis-title' }, 'time (UTC)'),
        el('span', {}, clock(to).slice(11, 16))));
  }

  function lagChart(slots, t, slot) {
    const top = Math.max(0.1, ...slots.map((x) => x.lag_p99_seconds || 0)) * 1.1;
    const label = t.lag_count
      ? 'Freshness lag over the last 15 minutes: p99 ' + secs(t.lag_p99_seconds) + ', max ' + secs(t.lag_max_seconds) + ', mean ' + secs(t.lag_mean_seconds) + ', ' + plural(t.lag_count, 'purge', 'purges') + ' with a lag'
      : 'No purge with a freshness lag (occurred_at) in the last 15 minutes';
    const s = chartSVG(label);
    const step = W / Math.max(1, slots.length);
    let d = '';
    slots.forEach((x, i) => {
      if (!x.lag_count) return;
      const px = (i + 0.5) * step;
      const py = H - (x.lag_p99_seconds / top) * (H - 4);
      d += (d ? ' L' : 'M') + px.toFixed(1) + ' ' + py.toFixed(1);
      s.append(svg('rect', { class: 'lagdot', x: (px - 1.5).toFixed(1), y: (py - 1.5).toFixed(1), width: 3, height: 3 }));
    });
    if (d) s.insertBefore(svg('path', { class: 'lag', d }), s.children[1]);
    plot($('chart-lag'), s, secs(top), 'lag (p99)', slots, slot);
    $('lag-summary').textContent = label + ' (this instance).';
  }

  function rateChart(slots, t, mins, slot) {
    const top = Math.max(1, ...slots.map((x) => x.purges || 0));
    const rate = mins ? Math.round(((t.purges || 0) / mins) * 10) / 10 : 0;
    const label = 'This instance, last 15 minutes (' + rate + ' a minute): ' + tally(t);
    const s = chartSVG(label);
    const step = W / Math.max(1, slots.length);
    slots.forEach((x, i) => {
      let y = H;
      for (const k of ['ok', 'dry_run', 'journaled', 'failed']) {
        const v = x[k] || 0;
        if (!v) continue;
        const h = (v / top) * (H - 4);
        y -= h;
        s.append(svg('rect', { class: k, x: (i * step + 0.5).toFixed(1), y: y.toFixed(1), width: Math.max(1, step - 1).toFixed(1), height: h.toFixed(1) }));
      }
    });
    plot($('chart-rate'), s, String(top), 'purges', slots, slot);
    $('rate-summary').textContent = label + '.' + (state.dryRun ? ' DRY RUN: none of them purged anything.' : '');
  }

  // ---- manual purge -----------------------------------------------------

  function kind() {
    return $('p-kind').value;
  }

  function showFields() {
    const k = kind();
    for (const f of document.querySelectorAll('#purge-form [data-for]')) {
      f.hidden = !f.dataset.for.split(' ').includes(k);
    }
    const names = { url: 'URLs', tag: 'Cache tags', host: 'Hostnames', prefix: 'Prefixes (host + path, no scheme)', key: 'Redis keys' };
    const label = $('p-items-label');
    clear(label);
    label.append((names[k] || 'Items') + ' ', el('span', { class: 'muted small' }, '(one per line)'));
  }

  function splitList(s, re) {
    return s.split(re).map((x) => x.trim()).filter(Boolean);
  }

  // purgeBody is POST /v1/purge's body for the form, or throws what is
  // missing.
  function purgeBody() {
    const k = kind();
    const page = $('p-page').value.trim();
    const body = {};
    if (k === 'page' || k === 'incident' || k === 'component') {
      if (!page) throw new Error('Give the page id.');
      body.page_id = page;
    }
    if (k === 'incident') {
      const inc = $('p-incident').value.trim();
      if (!inc) throw new Error('Give the incident id.');
      body.incident_id = inc;
    }
    if (k === 'component') {
      const cs = splitList($('p-components').value, /[\s,]+/);
      if (!cs.length) throw new Error('Give at least one component id.');
      body.component_ids = cs;
    }
    const field = { url: 'urls', tag: 'tags', host: 'hosts', prefix: 'prefixes', key: 'keys' }[k];
    if (field) {
      const items = splitList($('p-items').value, /\r?\n/);
      if (!items.length) throw new Error('Give at least one item, one per line.');
      body[field] = items;
    }
    if (k === 'everything') body.everything = true;
    return body;
  }

  function resetPreview() {
    state.preview = null;
    $('p-plan').hidden = true;
    clear($('p-plan-body'));
  }

  async function preview(ev) {
    ev.preventDefault();
    const err = $('p-error');
    err.textContent = '';
    clear($('p-result'));
    resetPreview();
    let body;
    try {
      body = purgeBody();
    } catch (e) {
      err.textContent = e.message;
      return;
    }
    const btn = $('p-preview');
    btn.disabled = true;
    try {
      const r = await api('POST', '/v1/purge', Object.assign({}, body, { dry_run: true }));
      if (!r.ok) {
        err.textContent = 'The dry run was refused: ' + errorText(r);
        return;
      }
      state.preview = body;
      const out = $('p-plan-body');
      out.append(answerView(r.data, true));
      $('p-plan').hidden = false;
      $('p-confirm').focus();
    } catch (e) {
      if (!(e instanceof SignedOut)) err.textContent = 'The dry run failed: ' + e.message;
    } finally {
      btn.disabled = false;
    }
  }

  async function confirmPurge() {
    const body = state.preview;
    if (!body) return;
    const btn = $('p-confirm');
    btn.disabled = true;
    const out = $('p-result');
    clear(out);
    try {
      const r = await api('POST', '/v1/purge', body);
      resetPreview();
      if (!r.data.status) {
        out.append(el('p', { class: 'error', role: 'alert' }, 'The purge was refused: ' + errorText(r)));
        return;
      }
      out.append(el('h3', {}, 'Purge answered HTTP ' + r.status));
      // A dry run's answer is no success: nothing was purged.
      const dry = r.data.status === 'dry_run';
      if (dry) out.append(el('p', { class: 'warning', role: 'alert' }, 'DRY RUN: nothing was purged. This instance is a dry run and purges nothing.'));
      out.append(answerView(r.data, false));
      if (dry) notice('Purge ' + r.data.id + ': dry_run. DRY RUN: nothing was purged.', 'warn');
      else notice('Purge ' + r.data.id + ': ' + r.data.status + '.', r.ok && r.data.status !== 'partial' && r.data.status !== 'failed' ? 'ok' : 'bad');
      state.sig.purges = state.sig.journal = '';
      refresh();
    } catch (e) {
      if (!(e instanceof SignedOut)) out.append(el('p', { class: 'error', role: 'alert' }, 'The purge failed: ' + e.message));
    } finally {
      btn.disabled = false;
    }
  }

  // answerView shows a purge answer: status, plan items, results.
  function answerView(a, dry) {
    const p = a.plan || {};
    const box = el('div', { class: 'answer', 'data-status': a.status });
    box.append(el('p', {}, badge(a.status), ' ', el('span', { class: 'id' }, a.id || ''),
      dry ? ' — nothing was purged yet.' : ''));
    const rows = [['page', p.page || '—'], ['zone', p.zone || '—']];
    if (a.journal_id) rows.push(['journal entry', a.journal_id]);
    if (a.journal_error) rows.push(['journal error', a.journal_error]);
    box.append(dl(rows));
    for (const w of p.warnings || []) box.append(el('p', { class: 'warning' }, w));
    if (p.everything) box.append(el('p', { class: 'warning' }, 'Everything: the whole zone.'));
    for (const [label, items] of [['URLs', p.urls], ['tags', p.tags], ['hosts', p.hosts], ['prefixes', p.prefixes], ['keys', p.keys], ['key sets', p.key_sets]]) {
      if (items && items.length) box.append(itemList(label, items));
    }
    box.append(resultsTable(a.results || []));
    return box;
  }

  // ---- start ------------------------------------------------------------

  function start() {
    $('signin-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      if (!t) {
        $('signin-error').textContent = 'Enter the API token.';
        return;
      }
      signIn(t, true);
    });
    $('signout').addEventListener('click', () => signOut('Signed out.'));
    let debounce = 0;
    const refilter = () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => {
        state.sig.purges = '';
        if (!state.busy) refresh();
      }, 250);
    };
    $('filters').addEventListener('submit', (ev) => ev.preventDefault());
    $('f-page').addEventListener('input', refilter);
    $('f-status').addEventListener('change', refilter);
    $('f-source').addEventListener('change', refilter);
    $('p-kind').addEventListener('change', () => {
      showFields();
      resetPreview();
    });
    $('purge-form').addEventListener('input', resetPreview);
    $('purge-form').addEventListener('submit', preview);
    $('p-confirm').addEventListener('click', confirmPurge);
    $('p-cancel').addEventListener('click', () => {
      resetPreview();
      notice('Purge cancelled: nothing was purged.');
    });
    showFields();
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) signIn(saved, false);
    else $('token').focus();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
