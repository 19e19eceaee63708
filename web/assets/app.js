// kvclass live page: renders the /ws stream (a snapshot, then batches of
// events; see docs/EVENTS.md). Every piece of data (keys, values, names,
// reasons) is set with textContent, never parsed as HTML: students store
// things like <img src=x onerror=...> on purpose.
'use strict';

(() => {
  const FEED_MAX = 30;
  const PREVIEW_RUNES = 64;
  const SEARCH_DELAY_MS = 250;
  const SEARCH_TIMEOUT_MS = 8000;
  const RECONNECT_MIN_MS = 250;
  const RECONNECT_MAX_MS = 5000;
  const CONNECT_TIMEOUT_MS = 10000;
  const NODE_COLORS = 8;

  // ---- translations (UI strings only, never data) ----

  const I18N = {
    en: {
      title: 'kvclass — live state',
      proxy: 'Proxy',
      node: 'Node',
      sharding: 'sharding',
      replication: 'replication',
      ruleSharding: (n) => `each key lives on one node: SHA-256(key) mod ${n}`,
      ruleReplication: 'every up node stores every key',
      join: 'Join the class',
      tunnel: 'ngrok',
      up: 'up',
      down: 'down',
      keys: { one: 'key', other: 'keys' },
      filter: 'Search keys…',
      noKeys: 'No keys yet',
      more: (n) => `+ ${n} older — search to find them`,
      searching: 'Searching…',
      found: (shown, total) => shown < total ? `${total} found, newest ${shown} shown` : `${total} found`,
      noMatch: 'No key contains this text',
      searchFailed: 'Search failed: ',
      feed: 'Requests',
      feedEmpty: 'No requests yet. Try:',
      hit: 'hit',
      miss: 'miss',
      error: 'error',
      connecting: 'connecting…',
      live: 'live',
      reconnecting: 'reconnecting…',
      noNodes: 'No nodes yet. Students join with the line above.',
      tunnelStates: { connecting: 'connecting', online: 'online', reconnecting: 'reconnecting', offline: 'offline' },
      otherLang: 'RU',
      langTitle: 'Переключить на русский',
      themeTitle: 'Switch light / dark theme',
      bytes: 'B',
    },
    ru: {
      title: 'kvclass — состояние',
      proxy: 'Прокси',
      node: 'Узел',
      sharding: 'шардирование',
      replication: 'репликация',
      ruleSharding: (n) => `каждый ключ живёт на одном узле: SHA-256(ключ) mod ${n}`,
      ruleReplication: 'каждый работающий узел хранит все ключи',
      join: 'Подключиться к классу',
      tunnel: 'ngrok',
      up: 'работает',
      down: 'недоступен',
      keys: { one: 'ключ', few: 'ключа', many: 'ключей', other: 'ключа' },
      filter: 'Поиск по ключам…',
      noKeys: 'Ключей пока нет',
      more: (n) => `и ещё ${n} — ищите через поиск`,
      searching: 'Ищем…',
      found: (shown, total) => shown < total ? `найдено ${total}, показаны ${shown} последних` : `найдено ${total}`,
      noMatch: 'Нет ключей с таким текстом',
      searchFailed: 'Поиск не удался: ',
      feed: 'Запросы',
      feedEmpty: 'Запросов пока нет. Попробуйте:',
      hit: 'найден',
      miss: 'нет ключа',
      error: 'ошибка',
      connecting: 'подключение…',
      live: 'в эфире',
      reconnecting: 'переподключение…',
      noNodes: 'Узлов пока нет. Студенты подключаются командой выше.',
      tunnelStates: { connecting: 'подключается', online: 'в сети', reconnecting: 'переподключается', offline: 'отключён' },
      otherLang: 'EN',
      langTitle: 'Switch to English',
      themeTitle: 'Сменить тему: светлая / тёмная',
      bytes: 'Б',
    },
  };

  // ---- small helpers ----

  const $ = (id) => document.getElementById(id);

  const store = {
    get(k) { try { return localStorage.getItem(k); } catch { return null; } },
    set(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode */ } },
  };

  const utf8 = new TextEncoder();

  // preview renders a raw JSON value as web.Preview does on the server: a
  // string as its contents, anything else as its JSON text as sent, cut at
  // 64 characters.
  function preview(raw) {
    let s = raw;
    if (raw.startsWith('"')) {
      try { s = JSON.parse(raw); } catch { s = raw; }
    }
    const size = utf8.encode(s).length;
    const chars = Array.from(s);
    if (chars.length <= PREVIEW_RUNES) return { text: s, size };
    return { text: chars.slice(0, PREVIEW_RUNES).join('') + `...[total of ${size} bytes]`, size };
  }

  // A node keeps its colour for the life of the page; a new node takes the
  // colour that the fewest present nodes have, so the first eight differ.
  const colors = new Map();

  // rawMembers returns the [key, raw JSON text] pairs of the object at
  // text[i], keeping each value's text exactly as the server sent it, and
  // the index after the object. The text must be valid JSON (JSON.parse
  // checked it).
  function rawMembers(text, i) {
    const out = [];
    const ws = (j) => { while (j < text.length && ' \t\r\n'.includes(text[j])) j++; return j; };
    i = ws(i) + 1; // {
    for (i = ws(i); i < text.length && text[i] !== '}'; i = ws(i)) {
      const keyEnd = skipValue(text, i);
      const key = JSON.parse(text.slice(i, keyEnd));
      const start = ws(ws(keyEnd) + 1); // :
      const end = skipValue(text, start);
      out.push([key, text.slice(start, end)]);
      i = ws(end);
      if (text[i] === ',') i++;
    }
    return [out, i + 1];
  }

  // skipValue returns the index after the JSON value that starts at text[i].
  function skipValue(text, i) {
    let depth = 0;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (ch === '"') {
        for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
        if (depth === 0) return i + 1;
      } else if (ch === '{' || ch === '[') {
        depth++;
      } else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) return i + 1;
      } else if (depth === 0 && (ch === ',' || ch === '}' || ch === ']' || ' \t\r\n'.includes(ch))) {
        return i;
      }
    }
    return i;
  }

  // searchData returns the [key, raw value] pairs of the "data" member of
  // a search answer, in the server's order (newest first).
  function searchData(text) {
    const [members] = rawMembers(text, 0);
    for (const [k, raw] of members) {
      if (k === 'data' && raw.startsWith('{')) return rawMembers(raw, 0)[0];
    }
    return [];
  }

  function colorOf(name) {
    let c = colors.get(name);
    if (c === undefined) {
      if (colors.size > 4096) {
        for (const k of colors.keys()) if (!state.nodes.has(k)) colors.delete(k);
      }
      const used = new Array(NODE_COLORS).fill(0);
      for (const n of state.order) if (colors.has(n)) used[colors.get(n)]++;
      c = used.indexOf(Math.min(...used));
      colors.set(name, c);
    }
    return 'c' + c;
  }

  function clone(id) {
    return $(id).content.firstElementChild.cloneNode(true);
  }

  // ---- language and theme ----

  let lang = pickLang();
  let T = I18N[lang];

  function pickLang() {
    const saved = store.get('kvclass.lang');
    if (saved && I18N[saved]) return saved;
    for (const l of navigator.languages || [navigator.language || '']) {
      const p = String(l).toLowerCase().slice(0, 2);
      if (I18N[p]) return p;
    }
    return 'en';
  }

  function plural(n, forms) {
    const rule = new Intl.PluralRules(lang).select(n);
    return forms[rule] || forms.other;
  }

  function formatSize(n) {
    if (n < 1024) return `${n} ${T.bytes}`;
    const k = n / 1024;
    const unit = lang === 'ru' ? 'КиБ' : 'KiB';
    if (k < 1024) return `${k.toLocaleString(lang, { maximumFractionDigits: 1 })} ${unit}`;
    const m = k / 1024;
    return `${m.toLocaleString(lang, { maximumFractionDigits: 1 })} ${lang === 'ru' ? 'МиБ' : 'MiB'}`;
  }

  function setLang(l) {
    lang = l;
    T = I18N[l];
    document.documentElement.lang = l;
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = T[el.dataset.i18n];
    $('lang').textContent = T.otherLang;
    $('lang').title = T.langTitle;
    $('theme').title = T.themeTitle;
    setConn(state.conn);
    renderAll();
  }

  function currentTheme() {
    const saved = store.get('kvclass.theme');
    if (saved === 'dark' || saved === 'light') return saved;
    return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  }

  function applyTheme() {
    document.documentElement.dataset.theme = currentTheme();
  }

  // ---- state ----

  const state = {
    role: '',
    mode: '',
    join: '',
    limit: 50,
    tunnel: null,
    order: [], // node names in display order
    nodes: new Map(), // name -> node
    feed: [], // newest first, at most FEED_MAX entries
    feedAdded: [], // entries not rendered yet, oldest first
    conn: 'connecting',
  };

  const dirty = { head: true, cards: new Set(), order: true, feed: true, flash: new Set() };

  function newNode(view) {
    return {
      view: { name: view.name, url: '', status: 'up', reason: '', count: 0 },
      keys: [], // newest first: {key, value, size, fresh}
      filter: '',
      search: null, // {state: 'loading'|'done'|'error', items, total, error}
      searchSeq: 0,
      searchTimer: 0,
      searchAbort: null,
      card: null,
      joined: false,
    };
  }

  // str and num read a field of a message defensively: a missing field is
  // "" or 0, as the server leaves empty fields out.
  const str = (v) => (typeof v === 'string' ? v : '');
  const num = (v) => (Number.isFinite(v) ? v : 0);

  function setView(n, v) {
    n.view.url = str(v.url);
    n.view.status = v.status === 'down' ? 'down' : 'up';
    n.view.reason = str(v.reason);
    n.view.count = num(v.count);
  }

  function keysFrom(list, limit) {
    if (!Array.isArray(list)) return [];
    return list.filter((k) => k && typeof k.key === 'string').slice(0, limit)
      .map((k) => ({ key: k.key, value: str(k.value), size: num(k.size), fresh: false }));
  }

  function applySnapshot(s) {
    state.role = str(s.role);
    state.mode = str(s.mode);
    state.join = str(s.join);
    state.limit = num(s.limit) > 0 ? s.limit : 50;
    state.tunnel = s.tunnel && typeof s.tunnel === 'object' ? s.tunnel : null;
    const old = state.nodes;
    state.nodes = new Map();
    state.order = [];
    for (const v of Array.isArray(s.nodes) ? s.nodes : []) {
      if (!v || typeof v.name !== 'string' || state.nodes.has(v.name)) continue;
      const n = old.get(v.name) || newNode(v);
      old.delete(v.name);
      setView(n, v);
      n.keys = keysFrom(v.keys, state.limit);
      state.nodes.set(v.name, n);
      state.order.push(v.name);
      dirty.cards.add(n);
      if (n.filter) startSearch(n, 0);
    }
    for (const n of old.values()) dropCard(n, false);
    dirty.head = true;
    dirty.order = true;
  }

  function upsertKey(list, item, limit) {
    const i = list.findIndex((k) => k.key === item.key);
    if (i >= 0) list.splice(i, 1);
    list.unshift(item);
    if (list.length > limit) list.length = limit;
    return i < 0;
  }

  function removeKey(list, key) {
    const i = list.findIndex((k) => k.key === key);
    if (i >= 0) list.splice(i, 1);
    return i >= 0;
  }

  function applyEvent(ev) {
    if (!ev || typeof ev.type !== 'string') return;
    const n = typeof ev.node === 'string' ? state.nodes.get(ev.node) : undefined;
    switch (ev.type) {
      case 'put': {
        if (!n || typeof ev.key !== 'string') return;
        const item = { key: ev.key, value: str(ev.value), size: num(ev.size), fresh: true };
        upsertKey(n.keys, item, state.limit);
        n.view.count = num(ev.count);
        if (n.filter && n.search && n.search.state === 'done' && ev.key.includes(n.filter)) {
          if (upsertKey(n.search.items, { ...item }, state.limit)) n.search.total++;
        }
        dirty.cards.add(n);
        dirty.flash.add(n);
        if (state.role === 'node') addFeed({ op: 'PUT', key: ev.key, nodes: [ev.node], result: 'ok' });
        return;
      }
      case 'delete': {
        if (!n || typeof ev.key !== 'string') return;
        removeKey(n.keys, ev.key);
        n.view.count = num(ev.count);
        if (n.search && n.search.state === 'done' && removeKey(n.search.items, ev.key)) n.search.total--;
        dirty.cards.add(n);
        dirty.flash.add(n);
        if (state.role === 'node') addFeed({ op: 'DELETE', key: ev.key, nodes: [ev.node], result: 'ok' });
        return;
      }
      case 'reset': {
        if (!n) return;
        n.keys = [];
        n.view.count = num(ev.count);
        if (n.search && n.search.state === 'done') n.search = { state: 'done', items: [], total: 0 };
        dirty.cards.add(n);
        dirty.flash.add(n);
        return;
      }
      case 'request': {
        const nodes = Array.isArray(ev.nodes) ? ev.nodes.filter((x) => typeof x === 'string') : [];
        addFeed({ op: str(ev.op), key: str(ev.key), nodes, result: str(ev.result), status: num(ev.status), error: str(ev.error) });
        for (const name of nodes) {
          const m = state.nodes.get(name);
          if (m) dirty.flash.add(m);
        }
        return;
      }
      case 'node':
        applyNodeEvent(ev);
        return;
      case 'mode':
        state.mode = str(ev.mode);
        dirty.head = true;
        return;
      case 'tunnel':
        state.tunnel = ev.tunnel && typeof ev.tunnel === 'object' ? ev.tunnel : null;
        dirty.head = true;
        return;
    }
  }

  function applyNodeEvent(ev) {
    const v = ev.view && typeof ev.view === 'object' ? ev.view : {};
    const name = typeof v.name === 'string' && v.name ? v.name : ev.node;
    if (typeof name !== 'string') return;
    let n = state.nodes.get(name);
    let created = false;
    switch (ev.change) {
      case 'leave':
      case 'kick':
        if (!n) return;
        state.nodes.delete(name);
        state.order = state.order.filter((x) => x !== name);
        dropCard(n, true);
        dirty.head = true;
        return;
      case 'join':
        if (!n) {
          n = newNode({ ...v, name });
          n.joined = true;
          created = true;
          state.nodes.set(name, n);
          state.order.push(name);
          dirty.order = true;
          dirty.head = true;
        }
        break;
      default:
        if (!n) return;
    }
    // Only a sync tells what a known node holds. A health or address change
    // (whose view leaves the count out, which reads as 0) or a repeated join
    // keeps the count that goes with the listed keys.
    const count = n.view.count;
    setView(n, { ...v, name });
    if (ev.change !== 'sync' && !created) n.view.count = count;
    if (ev.change === 'sync') {
      n.keys = keysFrom(v.keys, state.limit);
      if (n.filter) startSearch(n, 0);
    }
    dirty.cards.add(n);
  }

  function addFeed(entry) {
    state.feed.unshift(entry);
    state.feedAdded.push(entry);
    if (state.feed.length > FEED_MAX) state.feed.length = FEED_MAX;
    if (state.feedAdded.length > FEED_MAX) state.feedAdded.splice(0, state.feedAdded.length - FEED_MAX);
    dirty.feed = true;
  }

  // ---- search (the filter box asks the server: it holds all keys) ----

  function startSearch(n, delay) {
    clearTimeout(n.searchTimer);
    if (n.searchAbort) n.searchAbort.abort();
    n.searchAbort = null;
    if (!n.filter) {
      n.search = null;
      dirty.cards.add(n);
      schedule();
      return;
    }
    n.search = { state: 'loading', items: [], total: 0 };
    dirty.cards.add(n);
    schedule();
    n.searchTimer = setTimeout(() => runSearch(n), delay);
  }

  async function runSearch(n) {
    const seq = ++n.searchSeq;
    const ctl = new AbortController();
    n.searchAbort = ctl;
    const timer = setTimeout(() => ctl.abort(), SEARCH_TIMEOUT_MS);
    const params = new URLSearchParams({ format: 'json', node: n.view.name, q: n.filter });
    let result;
    try {
      const res = await fetch('/state?' + params.toString(), { signal: ctl.signal, headers: { Accept: 'application/json' } });
      const text = await res.text();
      let body = null;
      try { body = JSON.parse(text); } catch { body = null; }
      if (!res.ok || !body || typeof body.data !== 'object' || body.data === null || Array.isArray(body.data)) {
        const msg = body && typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
        result = { state: 'error', items: [], total: 0, error: msg };
      } else {
        const items = [];
        for (const [key, raw] of searchData(text)) {
          if (items.length >= state.limit) break;
          const p = preview(raw);
          items.push({ key, value: p.text, size: p.size, fresh: false });
        }
        const total = typeof body.count === 'number' ? body.count : items.length;
        result = { state: 'done', items, total };
      }
    } catch (e) {
      result = { state: 'error', items: [], total: 0, error: e && e.name === 'AbortError' ? 'timeout' : String(e && e.message || e) };
    } finally {
      clearTimeout(timer);
    }
    if (seq !== n.searchSeq || !n.filter) return; // a newer search or a cleared box won
    n.searchAbort = null;
    n.search = result;
    dirty.cards.add(n);
    schedule();
  }

  // ---- rendering ----

  let frame = 0;

  function schedule() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  function renderAll() {
    dirty.head = true;
    dirty.order = true;
    for (const n of state.nodes.values()) {
      if (n.card) {
        // Rows carry translated text (sizes): rebuild them.
        n.card.rows = new Map();
        n.card.keys.replaceChildren();
      }
      dirty.cards.add(n);
    }
    dirty.feed = true;
    state.feedAdded = state.feed.slice().reverse();
    $('feed').replaceChildren();
    schedule();
  }

  function render() {
    frame = 0;
    if (dirty.head) renderHead();
    if (dirty.order) renderOrder();
    for (const n of dirty.cards) if (state.nodes.get(n.view.name) === n) renderCard(n);
    if (dirty.feed) renderFeed();
    for (const n of dirty.flash) if (n.card) flash(n.card.el);
    dirty.head = dirty.order = dirty.feed = false;
    dirty.cards.clear();
    dirty.flash.clear();
  }

  function renderHead() {
    const proxy = state.role !== 'node';
    $('role-label').textContent = proxy ? T.proxy : T.node;
    let modeText = '';
    let ruleText = '';
    if (proxy) {
      modeText = T[state.mode] || state.mode;
      // The page's own words, in the page's language; the snapshot's rule
      // is for other readers of the stream.
      ruleText = state.mode === 'sharding' ? T.ruleSharding(state.order.length)
        : state.mode === 'replication' ? T.ruleReplication : '';
    } else {
      modeText = state.order[0] || '';
    }
    $('mode-name').textContent = modeText;
    $('mode-name').className = 'mode-name' + (proxy && state.mode ? ' mode-' + (state.mode === 'replication' ? 'replication' : 'sharding') : '');
    $('rule').textContent = ruleText;
    $('rule').hidden = !ruleText;
    document.title = T.title + (modeText ? ' · ' + modeText : '');

    $('join').hidden = !state.join;
    $('join-line').textContent = state.join;

    const tun = state.tunnel;
    $('tunnel').hidden = !tun;
    if (tun) {
      const st = str(tun.state);
      $('tunnel-state').textContent = T.tunnelStates[st] || st;
      $('tunnel-state').className = 'pill tunnel-' + (T.tunnelStates[st] ? st : 'offline');
      $('tunnel-url').textContent = str(tun.url);
      $('tunnel-error').textContent = str(tun.error);
    }
    $('no-nodes').hidden = state.order.length > 0 || !state.role;
    $('feed-hint').textContent = `curl -X POST '${location.origin}/put?key=hello' -d '{"value": "world"}'`;
  }

  function renderOrder() {
    const box = $('nodes');
    let prev = $('no-nodes');
    for (const name of state.order) {
      const n = state.nodes.get(name);
      if (!n.card) n.card = makeCard(n);
      // Move a card only when it is out of place: a moved element restarts
      // its animations.
      const el = n.card.el;
      if (prev.nextElementSibling !== el) box.insertBefore(el, prev.nextElementSibling);
      prev = el;
    }
    dirty.head = true;
    renderHead();
  }

  function makeCard(n) {
    const el = clone('tpl-card');
    const card = {
      el,
      name: el.querySelector('.name'),
      status: el.querySelector('.status'),
      url: el.querySelector('.url'),
      reason: el.querySelector('.reason'),
      count: el.querySelector('.count'),
      countLabel: el.querySelector('.count-label'),
      filter: el.querySelector('.filter'),
      note: el.querySelector('.note'),
      keys: el.querySelector('.keys'),
      more: el.querySelector('.more'),
      rows: new Map(), // key -> {li, item}
      flashB: false,
    };
    el.classList.add(colorOf(n.view.name));
    if (n.joined) {
      el.classList.add('joining');
      el.addEventListener('animationend', (e) => {
        if (e.animationName === 'appear') el.classList.remove('joining');
      });
    }
    el.dataset.node = n.view.name;
    card.filter.value = n.filter;
    card.filter.addEventListener('input', () => {
      n.filter = card.filter.value;
      startSearch(n, SEARCH_DELAY_MS);
    });
    card.filter.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        card.filter.value = '';
        n.filter = '';
        startSearch(n, 0);
      }
    });
    return card;
  }

  function dropCard(n, animate) {
    clearTimeout(n.searchTimer);
    if (n.searchAbort) n.searchAbort.abort();
    n.searchSeq++;
    const card = n.card;
    n.card = null;
    if (!card) return;
    if (!animate) {
      card.el.remove();
      return;
    }
    card.el.classList.add('leaving');
    card.el.removeAttribute('data-node');
    let gone = false;
    const remove = () => {
      if (!gone) card.el.remove();
      gone = true;
    };
    card.el.addEventListener('animationend', (e) => { if (e.animationName === 'leave') remove(); });
    setTimeout(remove, 800);
  }

  function renderCard(n) {
    const c = n.card;
    if (!c) return;
    const v = n.view;
    const down = v.status === 'down';
    c.name.textContent = v.name;
    c.name.title = v.name;
    c.status.textContent = down ? T.down : T.up;
    c.el.classList.toggle('down', down);
    c.url.textContent = v.url;
    c.url.title = v.url;
    c.url.hidden = !v.url;
    c.reason.textContent = down ? v.reason : '';
    c.reason.hidden = !down || !v.reason;
    c.count.textContent = v.count.toLocaleString(lang);
    c.countLabel.textContent = plural(v.count, T.keys);
    c.filter.placeholder = T.filter;

    let items = n.keys;
    let note = '';
    let noteClass = '';
    if (n.filter && n.search) {
      items = n.search.items;
      if (n.search.state === 'loading') note = T.searching;
      else if (n.search.state === 'error') { note = T.searchFailed + n.search.error; noteClass = 'error'; }
      else if (n.search.total === 0) note = T.noMatch;
      else note = T.found(items.length, Math.max(n.search.total, items.length));
    } else if (items.length === 0) {
      note = T.noKeys;
    }
    c.note.textContent = note;
    c.note.hidden = !note;
    c.note.classList.toggle('error', noteClass === 'error');

    renderRows(c, items);

    const hidden = n.filter ? 0 : v.count - items.length;
    c.more.hidden = hidden <= 0;
    c.more.textContent = hidden > 0 ? T.more(hidden.toLocaleString(lang)) : '';
  }

  // renderRows makes the list show items in order, reusing the row of a key
  // whose value did not change and making a fresh (highlighted) row for a
  // key that was just written.
  function renderRows(c, items) {
    const list = c.keys;
    const next = new Map();
    items.forEach((item, i) => {
      let row = c.rows.get(item.key);
      if (!row || item.fresh || row.value !== item.value || row.size !== item.size) {
        if (row) row.li.remove();
        row = makeRow(item);
      }
      item.fresh = false;
      next.set(item.key, row);
      const at = list.children[i];
      if (at !== row.li) list.insertBefore(row.li, at || null);
    });
    while (list.children.length > items.length) list.lastElementChild.remove();
    c.rows = next;
  }

  function makeRow(item) {
    const li = clone('tpl-key');
    const k = li.querySelector('.k');
    const v = li.querySelector('.v');
    k.textContent = item.key;
    k.title = item.key;
    v.textContent = item.value;
    v.title = item.value;
    li.querySelector('.size').textContent = formatSize(item.size);
    if (item.fresh) li.classList.add('fresh');
    return { li, value: item.value, size: item.size };
  }

  function flash(el) {
    // Switching between two identical animations restarts the flash
    // without forcing a layout.
    const b = el.classList.contains('flash-a');
    el.classList.toggle('flash-a', !b);
    el.classList.toggle('flash-b', b);
  }

  function renderFeed() {
    const list = $('feed');
    for (const entry of state.feedAdded) list.insertBefore(feedLine(entry), list.firstChild);
    state.feedAdded = [];
    while (list.children.length > FEED_MAX) list.lastElementChild.remove();
    $('feed-empty').hidden = state.feed.length > 0;
  }

  function feedLine(e) {
    const li = clone('tpl-feed');
    const result = e.result === 'error' ? 'error' : e.result;
    li.classList.add('r-' + (['ok', 'hit', 'miss', 'error'].includes(result) ? result : 'ok'));
    const op = li.querySelector('.op');
    op.textContent = e.op;
    op.classList.add('op-' + (['PUT', 'GET', 'DELETE'].includes(e.op) ? e.op.toLowerCase() : 'other'));
    const key = li.querySelector('.fkey');
    key.textContent = e.key;
    key.title = e.key;
    const targets = li.querySelector('.targets');
    for (const name of e.nodes) {
      if (targets.firstChild) targets.append(' ');
      const chip = document.createElement('span');
      chip.className = 'chip ' + colorOf(name);
      chip.textContent = name;
      targets.appendChild(chip);
    }
    const res = li.querySelector('.result');
    if (result === 'hit' || result === 'miss') {
      res.textContent = T[result];
    } else if (result === 'error') {
      res.textContent = T.error + (e.status ? ' ' + e.status : '') + (e.error ? ': ' + e.error : '');
      res.title = e.error;
    }
    if (!e.nodes.length && result !== 'miss' && result !== 'error') li.querySelector('.arrow').hidden = true;
    return li;
  }

  // ---- connection ----

  let ws = null;
  let attempt = 0;
  let retryTimer = 0;

  function setConn(s) {
    state.conn = s;
    const el = $('conn');
    el.className = 'conn ' + s;
    $('conn-text').textContent = T[s];
    document.body.classList.toggle('offline', s !== 'live');
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    setConn(attempt === 0 && !state.role ? 'connecting' : 'reconnecting');
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let sock;
    try {
      sock = new WebSocket(`${scheme}//${location.host}/ws`);
    } catch {
      retry(0);
      return;
    }
    ws = sock;
    // A connection attempt that hangs (a dead tunnel) is abandoned and retried.
    const openTimer = setTimeout(() => sock.close(), CONNECT_TIMEOUT_MS);
    sock.onopen = () => clearTimeout(openTimer);
    sock.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (!msg || typeof msg !== 'object') return;
      if (msg.type === 'snapshot') {
        attempt = 0;
        setConn('live');
        applySnapshot(msg);
      } else if (msg.type === 'events' && Array.isArray(msg.events)) {
        for (const ev of msg.events) applyEvent(ev);
      }
      schedule();
    };
    sock.onclose = (e) => {
      clearTimeout(openTimer);
      if (ws !== sock) return;
      ws = null;
      setConn('reconnecting');
      // A "resync" close means the page fell behind: reconnect at once.
      retry(e.reason === 'resync' ? 50 : 0);
    };
  }

  function retry(fixed) {
    if (retryTimer) return;
    const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
    attempt++;
    const delay = fixed || ceiling / 2 + Math.random() * ceiling / 2;
    retryTimer = setTimeout(connect, delay);
  }

  // ---- start ----

  function start() {
    applyTheme();
    matchMedia('(prefers-color-scheme: light)').addEventListener('change', applyTheme);
    $('theme').addEventListener('click', () => {
      store.set('kvclass.theme', currentTheme() === 'dark' ? 'light' : 'dark');
      applyTheme();
    });
    $('lang').addEventListener('click', () => {
      const next = lang === 'ru' ? 'en' : 'ru';
      store.set('kvclass.lang', next);
      setLang(next);
    });
    window.addEventListener('online', () => {
      if (!ws) { attempt = 0; connect(); }
    });
    setLang(lang);
    setConn('connecting');
    connect();
  }

  start();
})();
