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
  const TILES_ABOVE = 8; // more nodes than this: the projector's tiles
  const FEED_NODES_MAX = 3; // more nodes served one request: "→ N nodes"
  const EXPLAIN_TIMEOUT_MS = 8000;

  // ---- translations (UI strings only, never data) ----

  const I18N = {
    en: {
      title: 'kvclass — live state',
      proxy: 'Proxy',
      node: 'Node',
      sharding: 'sharding',
      replication: 'replication',
      ruleSharding: (n) => `each key lives on one node: SHA-256(key) mod ${n}`,
      ruleRing: 'ring: a key goes to the first node point at or after h(key)',
      ruleRendezvous: 'rendezvous: a key goes to the node with the largest h(node, key)',
      ruleCopies: (r) => `, ${r} copies of each key`,
      ruleReplication: 'every up node stores every key',
      ruleNone: 'no nodes yet — students join with the line below',
      join: 'Join the class',
      joinMore: 'QR code, downloads',
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
      nodes: { one: 'node', other: 'nodes' },
      layouts: { auto: 'automatic', cards: 'cards', tiles: 'tiles' },
      layoutTitle: (pref, next) => `Layout: ${pref}. Click for ${next}.`,
      tileTitle: 'click to see its keys',
      close: 'Close',
      whyHint: 'Click a key or a request to see why it lives on its node.',
      whyOf: 'Why here:',
      whyLoading: 'Working it out…',
      whyNA: 'Explanation not available',
      whyNoOwner: 'No nodes yet, so no owner',
      position: 'position',
      then: 'then',
    },
    ru: {
      title: 'kvclass — состояние',
      proxy: 'Прокси',
      node: 'Узел',
      sharding: 'шардирование',
      replication: 'репликация',
      ruleSharding: (n) => `каждый ключ живёт на одном узле: SHA-256(ключ) mod ${n}`,
      ruleRing: 'кольцо: ключ достаётся первой точке узла не меньше h(ключ)',
      ruleRendezvous: 'рандеву: ключ достаётся узлу с наибольшим h(узел, ключ)',
      ruleCopies: (r) => `, копий каждого ключа: ${r}`,
      ruleReplication: 'каждый работающий узел хранит все ключи',
      ruleNone: 'узлов пока нет — студенты подключаются строкой ниже',
      join: 'Подключиться к классу',
      joinMore: 'QR-код, загрузки',
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
      nodes: { one: 'узел', few: 'узла', many: 'узлов', other: 'узла' },
      layouts: { auto: 'автоматически', cards: 'карточки', tiles: 'плитки' },
      layoutTitle: (pref, next) => `Вид: ${pref}. Нажмите: ${next}.`,
      tileTitle: 'нажмите, чтобы увидеть ключи',
      close: 'Закрыть',
      whyHint: 'Нажмите на ключ или запрос: страница покажет, почему он на этом узле.',
      whyOf: 'Почему здесь:',
      whyLoading: 'Считаем…',
      whyNA: 'Объяснение недоступно',
      whyNoOwner: 'Узлов пока нет — владельца нет',
      position: 'позиция',
      then: 'затем',
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
    $('detail-close').title = T.close;
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
    rule: '', // the snapshot's rule text, for a placement the page has no words for
    placement: '', // "modulo", "ring", "rendezvous"; "" is modulo
    replicas: 0,
    join: '',
    limit: 50,
    tunnel: null,
    order: [], // node names in display order
    nodes: new Map(), // name -> node
    feed: [], // newest first, at most FEED_MAX entries
    feedAdded: [], // entries not rendered yet, oldest first
    conn: 'connecting',
    layout: '', // the layout shown: "cards" or "tiles"
    selected: '', // the node whose keys the tiles layout shows in its panel
    membership: 0, // counts changes of membership and placement (explanations go stale)
  };

  const dirty = { head: true, cards: new Set(), order: true, feed: true, flash: new Set() };

  // The layout: "auto" shows cards up to TILES_ABOVE nodes and tiles
  // beyond; "cards" and "tiles" are the viewer's fixed choice.
  const LAYOUTS = ['auto', 'cards', 'tiles'];
  let layoutPref = LAYOUTS.includes(store.get('kvclass.layout')) ? store.get('kvclass.layout') : 'auto';

  function effectiveLayout() {
    if (state.role === 'node' || state.order.length === 0) return 'cards';
    if (layoutPref === 'auto') return state.order.length > TILES_ABOVE ? 'tiles' : 'cards';
    return layoutPref;
  }

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
      tile: null,
      index: -1, // position in the node order
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
    state.rule = str(s.rule);
    state.placement = str(s.placement);
    state.replicas = num(s.replicas);
    state.membership++;
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
        if (typeof ev.placement === 'string' && ev.placement) state.placement = ev.placement;
        if (Number.isFinite(ev.replicas) && ev.replicas > 0) state.replicas = ev.replicas;
        state.membership++;
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
        if (n) {
          state.nodes.delete(name);
          state.order = state.order.filter((x) => x !== name);
          dropCard(n, true);
        }
        applyOrder(ev.order);
        state.membership++;
        dirty.order = true;
        dirty.head = true;
        return;
      case 'join':
        if (!n) {
          n = newNode({ ...v, name });
          n.joined = true;
          created = true;
          state.nodes.set(name, n);
          state.order.push(name);
        }
        applyOrder(ev.order);
        state.membership++;
        dirty.order = true;
        dirty.head = true;
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

  // applyOrder makes the page's node order the proxy's (a membership
  // event's "order": the whole order after the change), so positions match
  // "mod N". A node the page knows that the order leaves out is gone.
  function applyOrder(order) {
    if (!Array.isArray(order)) return;
    const seen = new Set();
    const next = [];
    for (const name of order) {
      if (typeof name === 'string' && state.nodes.has(name) && !seen.has(name)) {
        seen.add(name);
        next.push(name);
      }
    }
    for (const name of state.order) {
      if (!seen.has(name)) {
        const gone = state.nodes.get(name);
        state.nodes.delete(name);
        dropCard(gone, true);
      }
    }
    state.order = next;
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
    for (const w of whys) renderWhy(w);
    schedule();
  }

  function render() {
    frame = 0;
    const layout = effectiveLayout();
    if (layout !== state.layout) {
      state.layout = layout;
      document.body.dataset.layout = layout;
      dirty.order = true;
      dirty.head = true;
    }
    if (state.selected && (!state.nodes.has(state.selected) || layout !== 'tiles')) select('');
    if (dirty.head) renderHead();
    const refit = dirty.order; // the tiles' count or the panel changed (resizes refit on their own)
    if (dirty.order) renderOrder();
    for (const n of dirty.cards) if (state.nodes.get(n.view.name) === n) renderCard(n);
    if (dirty.feed) renderFeed();
    for (const n of dirty.flash) {
      if (n.card) flash(n.card.el);
      if (n.tile) flash(n.tile.el);
    }
    dirty.head = dirty.order = dirty.feed = false;
    dirty.cards.clear();
    dirty.flash.clear();
    if (refit && layout === 'tiles') fitTiles();
  }

  // ruleText is the placement rule in the page's words and language.
  function ruleText() {
    const n = state.order.length;
    if (n === 0) return T.ruleNone;
    if (state.mode === 'replication') return T.ruleReplication;
    if (state.mode !== 'sharding') return '';
    let s;
    switch (state.placement) {
      case '':
      case 'modulo': s = T.ruleSharding(n); break;
      case 'ring': s = T.ruleRing; break;
      case 'rendezvous': s = T.ruleRendezvous; break;
      default: return state.rule; // a strategy the page has no words for
    }
    const copies = Math.min(state.replicas, n);
    return copies > 1 ? s + T.ruleCopies(copies) : s;
  }

  function renderHead() {
    const proxy = state.role !== 'node';
    $('role-label').textContent = proxy ? T.proxy : T.node;
    let modeText = '';
    let rule = '';
    if (proxy) {
      modeText = T[state.mode] || state.mode;
      // The page's own words, in the page's language; the snapshot's rule
      // is for other readers of the stream.
      if (state.role) rule = ruleText();
    } else {
      modeText = state.order[0] || '';
    }
    $('mode-name').textContent = modeText;
    $('mode-name').className = 'mode-name' + (proxy && state.mode ? ' mode-' + (state.mode === 'replication' ? 'replication' : 'sharding') : '');
    $('rule').textContent = rule;
    $('rule').hidden = !rule;
    document.title = T.title + (modeText ? ' · ' + modeText : '');

    $('join').hidden = !state.join;
    $('join-line').textContent = state.join;
    $('join-more').hidden = !state.join || !proxy;

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
    document.body.classList.toggle('explains', canExplain());

    const toggle = $('layout');
    toggle.hidden = !proxy || !state.role || state.order.length === 0;
    const next = LAYOUTS[(LAYOUTS.indexOf(layoutPref) + 1) % LAYOUTS.length];
    toggle.dataset.pref = layoutPref;
    toggle.dataset.layout = state.layout || 'cards';
    toggle.title = T.layoutTitle(T.layouts[layoutPref], T.layouts[next]);
    toggle.setAttribute('aria-label', toggle.title);
  }

  function renderOrder() {
    const box = $('nodes');
    const tiles = $('tiles');
    const detail = $('detail');
    const showTiles = state.layout === 'tiles';
    let prev = $('no-nodes');
    let prevTile = null;
    state.order.forEach((name, i) => {
      const n = state.nodes.get(name);
      if (!n.card) n.card = makeCard(n);
      if (n.index !== i) {
        n.index = i;
        dirty.cards.add(n);
      }
      // Move a card only when it is out of place: a moved element restarts
      // its animations.
      const el = n.card.el;
      if (showTiles && state.selected === name) {
        if (el.parentElement !== detail) detail.append(el);
      } else {
        if (prev.nextElementSibling !== el) box.insertBefore(el, prev.nextElementSibling);
        prev = el;
      }
      if (!showTiles) return;
      if (!n.tile) {
        n.tile = makeTile(n);
        dirty.cards.add(n);
      }
      const t = n.tile.el;
      const at = prevTile ? prevTile.nextElementSibling : tiles.firstElementChild;
      if (at !== t) tiles.insertBefore(t, at);
      prevTile = t;
    });
    box.hidden = showTiles;
    tiles.hidden = !showTiles;
    detail.hidden = !showTiles || !state.selected;
    $('feed-panel').hidden = showTiles && !!state.selected;
    document.body.classList.toggle('has-detail', showTiles && !!state.selected);
    dirty.head = true;
    renderHead();
  }

  function makeCard(n) {
    const el = clone('tpl-card');
    const card = {
      el,
      index: el.querySelector('.index'),
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
      why: null, // the explanation open under one key's row
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
    card.keys.addEventListener('click', (e) => {
      if (!canExplain() || e.target.closest('.why')) return;
      const li = e.target.closest('.kv');
      if (!li || li.dataset.key === undefined) return;
      toggleRowWhy(card, li.dataset.key);
    });
    card.keys.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter' || !canExplain()) return;
      const li = e.target.closest('.kv');
      if (li && e.target === li) toggleRowWhy(card, li.dataset.key);
    });
    return card;
  }

  // A tile is a node on the projector layout: name, position, up/down,
  // key count. A click opens the node's card (its keys) in the panel.
  function makeTile(n) {
    const el = clone('tpl-tile');
    const tile = {
      el,
      name: el.querySelector('.t-name'),
      index: el.querySelector('.t-index'),
      status: el.querySelector('.t-status'),
      count: el.querySelector('.t-count'),
      label: el.querySelector('.t-label'),
    };
    el.classList.add(colorOf(n.view.name));
    if (n.joined) {
      el.classList.add('joining');
      el.addEventListener('animationend', (e) => {
        if (e.animationName === 'appear') el.classList.remove('joining');
      });
    }
    el.dataset.node = n.view.name;
    el.addEventListener('click', () => {
      if (state.nodes.get(n.view.name) !== n) return;
      select(state.selected === n.view.name ? '' : n.view.name);
    });
    return tile;
  }

  // select opens name's keys in the tiles layout's panel ('' closes it).
  function select(name) {
    const old = state.selected && state.nodes.get(state.selected);
    if (old && old.tile) {
      old.tile.el.classList.remove('selected');
      old.tile.el.setAttribute('aria-pressed', 'false');
    }
    state.selected = name;
    const n = name && state.nodes.get(name);
    if (n && n.tile) {
      n.tile.el.classList.add('selected');
      n.tile.el.setAttribute('aria-pressed', 'true');
    }
    dirty.order = true;
    schedule();
  }

  // fitTiles picks the tiles' columns and row height so that every node
  // fits the tiles' box without scrolling when it can: as many columns as
  // keep a tile wide enough for a 16-character name, rows as tall as the
  // box allows (up to a cap), tiles about 2.4 times as wide as tall.
  function fitTiles() {
    const box = $('tiles');
    const count = state.order.length;
    if (box.hidden || !count) return;
    const cs = getComputedStyle(box);
    const px = (v, d) => (Number.isFinite(parseFloat(v)) ? parseFloat(v) : d);
    const gap = px(cs.rowGap, 0);
    const minW = px(cs.getPropertyValue('--tile-min-w'), 270);
    const minH = px(cs.getPropertyValue('--tile-min-h'), 84);
    const maxH = px(cs.getPropertyValue('--tile-max-h'), 160);
    const W = box.clientWidth - px(cs.paddingLeft, 0) - px(cs.paddingRight, 0);
    const H = box.clientHeight - px(cs.paddingTop, 0) - px(cs.paddingBottom, 0);
    const flow = cs.getPropertyValue('--tile-flow').trim() === 'scroll'; // a phone: the page scrolls
    let best = null;
    if (!flow && W > 0 && H > 0) {
      for (let c = 1; c <= count; c++) {
        const w = (W - gap * (c - 1)) / c;
        if (w < minW) break;
        const r = Math.ceil(count / c);
        const h = (H - gap * (r - 1)) / r;
        if (h < minH) continue;
        const score = Math.min(w / 2.4, h);
        if (!best || score > best.score) best = { c, h: Math.min(h, maxH), score };
      }
    }
    if (!best) best = { c: Math.max(1, Math.floor((W + gap) / (minW + gap))), h: minH };
    const cols = String(best.c);
    const rowH = Math.floor(best.h) + 'px';
    if (box.style.getPropertyValue('--cols') !== cols) box.style.setProperty('--cols', cols);
    if (box.style.getPropertyValue('--row-h') !== rowH) box.style.setProperty('--row-h', rowH);
  }

  function dropCard(n, animate) {
    clearTimeout(n.searchTimer);
    if (n.searchAbort) n.searchAbort.abort();
    n.searchSeq++;
    if (n.card && n.card.why) closeWhy(n.card.why);
    const els = [n.card && n.card.el, n.tile && n.tile.el].filter(Boolean);
    n.card = null;
    n.tile = null;
    for (const el of els) {
      if (!animate) {
        el.remove();
        continue;
      }
      el.classList.add('leaving');
      el.removeAttribute('data-node');
      let gone = false;
      const remove = () => {
        if (!gone) el.remove();
        gone = true;
      };
      el.addEventListener('animationend', (e) => { if (e.animationName === 'leave') remove(); });
      setTimeout(remove, 800);
    }
  }

  function renderCard(n) {
    const c = n.card;
    if (!c) return;
    const v = n.view;
    const down = v.status === 'down';
    const showIndex = state.role === 'proxy' && n.index >= 0;
    c.index.textContent = showIndex ? '#' + n.index : '';
    c.index.hidden = !showIndex;
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
    renderTile(n);
  }

  function renderTile(n) {
    const t = n.tile;
    if (!t) return;
    const v = n.view;
    const down = v.status === 'down';
    t.name.textContent = v.name;
    // The name's font fits the tile's width for up to 16 characters (see
    // .t-name in style.css); a longer name may go smaller.
    const len = Array.from(v.name).length;
    t.name.style.setProperty('--len', String(Math.max(len, 8)));
    t.name.classList.toggle('long', len > 16);
    t.index.textContent = '#' + n.index;
    t.status.textContent = down ? T.down : T.up;
    t.el.classList.toggle('down', down);
    t.count.textContent = v.count.toLocaleString(lang);
    t.label.textContent = plural(v.count, T.keys);
    t.el.title = `#${n.index} ${v.name} — ${down ? T.down + (v.reason ? ': ' + v.reason : '') : T.up} — ${T.tileTitle}`;
    t.el.classList.toggle('selected', state.selected === v.name);
    t.el.setAttribute('aria-pressed', String(state.selected === v.name));
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
    // An open explanation follows its key's row, or closes with it.
    if (c.why) {
      const row = next.get(c.why.key);
      if (!row) closeWhy(c.why);
      else if (c.why.el.parentElement !== row.li) row.li.append(c.why.el);
    }
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
    li.dataset.key = item.key;
    if (canExplain()) li.tabIndex = 0;
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
    key.classList.toggle('long', Array.from(e.key).length > 8);
    li.classList.toggle('multi', e.nodes.length > 1 && e.nodes.length <= FEED_NODES_MAX);
    const targets = li.querySelector('.targets');
    if (e.nodes.length > FEED_NODES_MAX) {
      // Under replication a request may go to the whole class: one chip
      // says how many, its title names them.
      const chip = document.createElement('span');
      chip.className = 'chip many';
      chip.textContent = `${e.nodes.length.toLocaleString(lang)} ${plural(e.nodes.length, T.nodes)}`;
      chip.title = e.nodes.join(' ');
      targets.appendChild(chip);
    } else {
      for (const name of e.nodes) {
        if (targets.firstChild) targets.append(' ');
        const chip = document.createElement('span');
        chip.className = 'chip ' + colorOf(name) + (Array.from(name).length > 5 ? ' long' : '');
        chip.textContent = name;
        chip.title = name;
        targets.appendChild(chip);
      }
    }
    const res = li.querySelector('.result');
    if (result === 'hit' || result === 'miss') {
      res.textContent = T[result];
    } else if (result === 'error') {
      res.textContent = T.error + (e.status ? ' ' + e.status : '') + (e.error ? ': ' + e.error : '');
      res.title = e.error;
    }
    if (!e.nodes.length && result !== 'miss' && result !== 'error') li.querySelector('.arrow').hidden = true;
    if (canExplain() && e.key) {
      li.tabIndex = 0;
      li.dataset.key = e.key;
    }
    return li;
  }

  // ---- why a key is where it is (GET /placement/explain on the proxy) ----

  // Open explanations: {key, el, result, seq, home}. home is the card whose
  // key row holds el, or null for the feed's dock.
  const whys = new Set();
  const explained = new Map(); // key -> {membership, result}: answers for the current membership

  function canExplain() {
    return state.role === 'proxy';
  }

  function newWhy(key, home) {
    const el = clone('tpl-why');
    const w = { key, el, result: { state: 'loading' }, seq: 0, home };
    el.querySelector('.why-close').addEventListener('click', (e) => {
      e.stopPropagation();
      closeWhy(w);
    });
    whys.add(w);
    loadWhy(w);
    return w;
  }

  function closeWhy(w) {
    whys.delete(w);
    w.seq++;
    w.el.remove();
    if (w.home) {
      if (w.home.why === w) w.home.why = null;
    } else {
      if (feedWhy === w) feedWhy = null;
      $('feed-why').hidden = true;
    }
  }

  function toggleRowWhy(card, key) {
    const open = card.why;
    if (open) closeWhy(open);
    if (open && open.key === key) return;
    const row = card.rows.get(key);
    if (!row) return;
    card.why = newWhy(key, card);
    row.li.append(card.why.el);
  }

  let feedWhy = null;

  function showFeedWhy(key) {
    if (feedWhy) {
      const same = feedWhy.key === key;
      closeWhy(feedWhy);
      if (same) return;
    }
    feedWhy = newWhy(key, null);
    $('feed-why').replaceChildren(feedWhy.el);
    $('feed-why').hidden = false;
  }

  async function loadWhy(w) {
    const seq = ++w.seq;
    const cached = explained.get(w.key);
    if (cached && cached.membership === state.membership) {
      w.result = cached.result;
      renderWhy(w);
      return;
    }
    w.result = { state: 'loading' };
    renderWhy(w);
    const membership = state.membership;
    const result = await fetchExplain(w.key);
    if (result.state === 'done') {
      if (explained.size > 500) explained.clear();
      explained.set(w.key, { membership, result });
    }
    if (seq !== w.seq || !whys.has(w)) return;
    w.result = result;
    renderWhy(w);
  }

  // fetchExplain asks the proxy why key is where it is. Any failure (no
  // such endpoint, an error, a timeout, a key the URL cannot carry) is
  // {state: 'na'}: the page says the explanation is not available.
  async function fetchExplain(key) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), EXPLAIN_TIMEOUT_MS);
    try {
      const res = await fetch('/placement/explain?key=' + encodeURIComponent(key), { signal: ctl.signal, headers: { Accept: 'application/json' } });
      if (!res.ok) return { state: 'na' };
      const body = await res.json();
      if (!body || typeof body !== 'object' || Array.isArray(body)) return { state: 'na' };
      return { state: 'done', ...explainFrom(body, key) };
    } catch {
      return { state: 'na' };
    } finally {
      clearTimeout(timer);
    }
  }

  // explainFrom reads an explanation defensively. It takes the proxy's
  // words ("arithmetic", "primary", "hash", "position") when present, and
  // otherwise works them out from the placement package's fields
  // ("n", "owners", "modulo", "ring", "rendezvous").
  function explainFrom(body, key) {
    const names = (v) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string' && x) : []);
    const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : null);
    const owners = names(body.owners);
    const primary = str(body.primary) || owners[0] || '';
    if (primary && !owners.includes(primary)) owners.unshift(primary);
    const n = [body.nodes, body.n].find(Number.isInteger) ?? state.order.length;
    const mod = obj(body.modulo);
    const ring = obj(body.ring);
    const rdv = Array.isArray(body.rendezvous) ? body.rendezvous.map(obj).filter(Boolean) : [];
    let pos = [body.position, body.index, mod && mod.remainder].find((x) => Number.isInteger(x) && x >= 0);
    if (pos === undefined && primary) {
      const i = state.order.indexOf(primary);
      if (i >= 0) pos = i;
    }
    const hash = str(body.hash) || (mod ? str(mod.sha256) : '');
    const q = JSON.stringify(key);
    let math = str(body.arithmetic);
    if (!math && primary) {
      if (mod && Number.isInteger(mod.remainder)) {
        math = `int(SHA-256(${q})) mod ${n} = ${mod.remainder}`;
      } else if (ring && Array.isArray(ring.points) && obj(ring.points[0])) {
        const p = ring.points[0];
        math = `h(${q}) = ${str(ring.key_point_hex)} → ${str(p.hex)} (${str(p.node)}#${num(p.vnode)})`;
      } else if (rdv.length) {
        math = `max h(node + "\\x00" + ${q}) = ${str(rdv[0].hex)} (${str(rdv[0].node)})`;
      }
    }
    return { key, n, owners, primary, pos, hash, math };
  }

  function renderWhy(w) {
    const el = w.el;
    const r = w.result;
    el.querySelector('.why-title').textContent = `${T.whyOf} ${w.key}`;
    el.querySelector('.why-close').title = T.close;
    const note = el.querySelector('.why-note');
    const math = el.querySelector('.why-math');
    const owner = el.querySelector('.why-owner');
    const hash = el.querySelector('.why-hash');
    let noteText = '';
    if (r.state === 'loading') noteText = T.whyLoading;
    else if (r.state !== 'done') noteText = T.whyNA;
    else if (!r.primary) noteText = T.whyNoOwner;
    note.textContent = noteText;
    note.hidden = !noteText;
    el.classList.toggle('na', r.state === 'na');
    const done = r.state === 'done' && !!r.primary;
    math.textContent = done ? r.math : '';
    math.hidden = !done || !r.math;
    hash.textContent = done && r.hash ? `SHA-256 = ${r.hash}` : '';
    hash.hidden = !done || !r.hash;
    owner.replaceChildren();
    owner.hidden = !done;
    if (!done) return;
    const pos = document.createElement('span');
    pos.className = 'why-pos';
    pos.textContent = r.pos !== undefined ? `${T.position} #${r.pos}` : '';
    const chip = document.createElement('span');
    chip.className = 'chip ' + colorOf(r.primary);
    chip.textContent = r.primary;
    owner.append(pos, ' → ', chip);
    if (r.owners.length > 1) {
      const rest = document.createElement('span');
      rest.className = 'why-then';
      rest.textContent = ` ${T.then} ${r.owners.slice(1).join(', ')}`;
      owner.append(rest);
    }
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
    $('layout').addEventListener('click', () => {
      layoutPref = LAYOUTS[(LAYOUTS.indexOf(layoutPref) + 1) % LAYOUTS.length];
      store.set('kvclass.layout', layoutPref);
      dirty.head = true;
      schedule();
    });
    $('detail-close').addEventListener('click', () => select(''));
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && state.selected && !e.target.closest('input')) select('');
    });
    $('feed').addEventListener('click', (e) => {
      const li = e.target.closest('.req');
      if (li && li.dataset.key !== undefined && canExplain()) showFeedWhy(li.dataset.key);
    });
    $('feed').addEventListener('keydown', (e) => {
      const li = e.target.closest('.req');
      if (e.key === 'Enter' && li && e.target === li && li.dataset.key !== undefined && canExplain()) showFeedWhy(li.dataset.key);
    });
    // The tiles refit whenever their box changes size (a window resize, the
    // panel opening).
    if (window.ResizeObserver) new ResizeObserver(() => { if (state.layout === 'tiles') fitTiles(); }).observe($('tiles'));
    window.addEventListener('resize', () => { if (state.layout === 'tiles') fitTiles(); });
    window.addEventListener('online', () => {
      if (!ws) { attempt = 0; connect(); }
    });
    setLang(lang);
    setConn('connecting');
    connect();
  }

  start();
})();
