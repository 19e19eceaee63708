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
  const STRIP_SECONDS = 120; // the availability strip's span: two minutes
  const ADMIN_TIMEOUT_MS = 15000;
  // ADMIN_TOKEN_KEY is where the instructor's admin token is kept: the
  // tab's sessionStorage (gone when the tab closes), never the URL, never
  // the page (docs/EVENTS.md, "The instructor's panel").
  const ADMIN_TOKEN_KEY = 'kvclass.admin-token';

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
      // the feed's new results
      late: 'late',
      lateTitle: 'this replica answered after the write had returned',
      stale: 'stale',
      staleFmt: (node, detail) => `${node} stale: ${detail}`,
      onNode: (node) => `on ${node}`,
      onNodeTitle: (node) => `the key is not on its owner: it sits on ${node}`,
      // marks on nodes and keys
      markMisplaced: 'misplaced',
      markMoving: 'moves',
      nMisplaced: (n) => `${fmt(n)} misplaced`,
      nMisplacedTitle: (n) => `${fmt(n)} of this node's keys belong elsewhere`,
      tHints: 'hints',
      tMisplaced: 'misplaced',
      tMoving: (n) => (n === 1 ? 'moves' : 'move'),
      nHints: (n) => `${fmt(n)} hinted ${n === 1 ? 'write waits' : 'writes wait'}`,
      nHintsTitle: (n) => `the proxy keeps ${fmt(n)} ${n === 1 ? 'write' : 'writes'} for this node and replays them when it is back`,
      nMoving: (n) => `${fmt(n)} ${n === 1 ? 'moves' : 'move'}`,
      nMovingTitle: (n) => `${fmt(n)} of the listed keys would move`,
      faultDelay: (ms) => `+${ms} ms`,
      faultDrop: (p) => `drop ${p}%`,
      faultPause: 'paused',
      faultLabel: 'fault',
      ownTitle: "a student's own implementation",
      // the class panel
      checkTitle: 'Linearizability check',
      checkRunning: 'running…',
      checkOps: (n) => `${fmt(n)} ${n === 1 ? 'operation' : 'operations'}`,
      verdicts: { LINEARIZABLE: 'LINEARIZABLE', 'NOT LINEARIZABLE': 'NOT LINEARIZABLE', 'NO VERDICT': 'NO VERDICT' },
      overlapYes: 'R + W > N: every read meets the last write',
      overlapNo: 'R + W ≤ N: reads can be stale',
      repairModes: { off: 'off', async: 'async', sync: 'sync' },
      readRepair: (m) => `Read repair: ${m}`,
      hintsOn: 'Hinted handoff: on',
      hintsOff: 'Hinted handoff: off',
      aeOn: (iv) => `Anti-entropy: every ${iv}`,
      aeOff: 'Anti-entropy: off',
      divergent: (n) => (n === 0 ? 'Replicas agree' : `${fmt(n)} ${n === 1 ? 'key differs' : 'keys differ'} between replicas`),
      pinned: (node) => `Reads pinned to ${node}`,
      misplaced: (m, k) => `${fmt(m)} of ${fmt(k)} ${k === 1 ? 'key' : 'keys'} misplaced`,
      inPlace: (k) => (k === 1 ? 'The key is on its owner' : `All ${fmt(k)} keys are on their owners`),
      rebalance: 'Rebalance',
      rbRunning: 'running…',
      rbDone: 'done',
      rbFigs: (moved, total, bytes) => `${fmt(moved)} of ${fmt(total)} ${total === 1 ? 'key' : 'keys'} moved · ${bytes}`,
      rbWait: (names) => `Waiting for ${names} (down)`,
      rbWaitTitle: 'the keys of a down node move when it is back or kicked',
      locked: 'Class locked: only known nodes may rejoin',
      availability: 'Availability, last 2 min',
      legendOK: 'ok',
      legendFail: 'failed',
      legendFault: 'fault',
      now: 'now',
      stripFrom: '−2 min',
      availNow: (ok, fail) => `${fmt(ok)} ok · ${fmt(fail)} failed per s`,
      secTitle: (time, ok, fail) => `${time}: ${fmt(ok)} ok, ${fmt(fail)} failed`,
      pvJoin: (name) => `If ${name} joins`,
      pvLeave: (name) => `If ${name} leaves`,
      pvNote: (keys) => `over the ${fmt(keys)} keys the proxy sees`,
      pvHeads: ['strategy', 'moved', 'ideal', 'max/mean'],
      pvTruncated: 'only the first moving keys are marked',
      pvSummary: (moved, keys, pct, ideal) => `${fmt(moved)} of ${fmt(keys)} keys would move (${pct}); ideal ${ideal}`,
      pvFailed: 'Preview failed: ',
      strategies: { modulo: 'modulo', ring: 'ring', rendezvous: 'rendezvous' },
      // the instructor's panel
      instructor: 'instructor',
      instructorTitle: "Instructor's panel (needs the admin token)",
      adminTitle: "Instructor's panel",
      adminTokenLabel: 'Admin token',
      adminSignIn: 'Use token',
      adminTokenNote: "It is in the proxy's state file (the proxy prints that file's path when it starts). It stays in this browser tab only and goes to this proxy only.",
      adminSignOut: 'Forget the token',
      adminNeedToken: 'Enter the admin token first.',
      adminRejected: 'The proxy refused the admin token (401), so this tab forgot it. Enter it again.',
      adminReady: "Token kept for this tab. The proxy's answer to each action shows here.",
      adminUnreachable: 'Could not reach the proxy: ',
      adminWorking: 'Sending…',
      aMode: 'Mode',
      aPlacement: 'Placement',
      aStrategy: 'Strategy',
      aVnodes: 'Points per node (ring)',
      aReplicas: 'Copies of each key',
      aApply: 'Apply',
      aReplication: 'Replication',
      aReadRepair: 'Read repair',
      aAntiEntropy: 'Anti-entropy every (0: off)',
      aPin: 'Pin reads to',
      aHints: 'Hinted handoff',
      aNone: '(none)',
      aFaults: 'Faults',
      aNode: 'Node',
      aDelay: 'Delay, ms',
      aDrop: 'Drop, %',
      aPause: 'Pause (calls hang until the timeout)',
      aFaultSet: 'Set fault',
      aFaultClear: 'Clear',
      aFaultClearAll: 'Clear all',
      aMoves: 'What moves',
      aJoinName: 'name of a new node',
      aPreviewJoin: 'Preview join',
      aPreviewLeave: 'Preview leave',
      aPreviewClear: 'Clear preview',
      aRebalance: 'Rebalance now',
      aCheck: 'Linearizability check',
      aDuration: 'Duration',
      aClients: 'Clients',
      aKeys: 'Keys',
      aCheckRun: 'Run check',
      aClass: 'Class',
      aLock: 'Lock the class',
      aUnlock: 'Open the class',
      aKick: 'Kick',
      aReset: "Clear every node's data…",
      aResetConfirm: "Clear the data on every node? The students' keys are lost.",
      aResetYes: 'Yes, clear it all',
      aCancel: 'Cancel',
      aBadNumber: (field) => `${field}: a whole number, please.`,
      aBadInterval: 'Anti-entropy: a duration such as 30s, or 0 for off.',
      aPickNode: 'Pick a node first.',
      aNameNeeded: 'Type the name of the node that would join.',
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
      late: 'опоздал',
      lateTitle: 'эта реплика ответила, когда запись уже вернулась клиенту',
      stale: 'устарело',
      staleFmt: (node, detail) => `${node} устарел: ${detail}`,
      onNode: (node) => `на ${node}`,
      onNodeTitle: (node) => `ключ не на своём узле: он лежит на ${node}`,
      markMisplaced: 'не на месте',
      markMoving: 'переедет',
      nMisplaced: (n) => `${fmt(n)} не на месте`,
      nMisplacedTitle: (n) => `ключей этого узла, которым место на другом: ${fmt(n)}`,
      tHints: 'в очереди',
      tMisplaced: 'не на месте',
      tMoving: (n) => plural(n, { one: 'переедет', few: 'переедут', many: 'переедут', other: 'переедут' }),
      nHints: (n) => `ждут записей: ${fmt(n)}`,
      nHintsTitle: (n) => `прокси хранит для этого узла записей: ${fmt(n)} и передаст их, когда узел вернётся`,
      nMoving: (n) => `${fmt(n)} ${plural(n, { one: 'переедет', few: 'переедут', many: 'переедут', other: 'переедут' })}`,
      nMovingTitle: (n) => `из показанных ключей переедут: ${fmt(n)}`,
      faultDelay: (ms) => `+${ms} мс`,
      faultDrop: (p) => `потери ${p}%`,
      faultPause: 'пауза',
      faultLabel: 'сбой',
      ownTitle: 'собственная реализация студента',
      checkTitle: 'Проверка линеаризуемости',
      checkRunning: 'идёт…',
      checkOps: (n) => `операций: ${fmt(n)}`,
      verdicts: { LINEARIZABLE: 'ЛИНЕАРИЗУЕМО', 'NOT LINEARIZABLE': 'НЕ ЛИНЕАРИЗУЕМО', 'NO VERDICT': 'НЕТ ВЕРДИКТА' },
      overlapYes: 'R + W > N: каждое чтение встречает последнюю запись',
      overlapNo: 'R + W ≤ N: чтение может вернуть устаревшее',
      repairModes: { off: 'выкл.', async: 'асинхронно', sync: 'синхронно' },
      readRepair: (m) => `Восстановление при чтении: ${m}`,
      hintsOn: 'Hinted handoff: вкл.',
      hintsOff: 'Hinted handoff: выкл.',
      aeOn: (iv) => `Антиэнтропия: каждые ${iv}`,
      aeOff: 'Антиэнтропия: выкл.',
      divergent: (n) => (n === 0 ? 'Реплики совпадают' : `Расходятся между репликами: ${fmt(n)}`),
      pinned: (node) => `Чтение только с ${node}`,
      misplaced: (m, k) => `${fmt(m)} из ${fmt(k)} ${plural(k, { one: 'ключа', other: 'ключей' })} не на своём узле`,
      inPlace: (k) => `Все ключи на своих узлах (${fmt(k)})`,
      rebalance: 'Перебалансировка',
      rbRunning: 'идёт…',
      rbDone: 'готово',
      rbFigs: (moved, total, bytes) => `перенесено ${fmt(moved)} из ${fmt(total)} · ${bytes}`,
      rbWait: (names) => `Ждут ${names} (недоступны)`,
      rbWaitTitle: 'ключи недоступного узла переедут, когда он вернётся или будет исключён',
      locked: 'Класс закрыт: вернуться могут только известные узлы',
      availability: 'Доступность, последние 2 мин',
      legendOK: 'успех',
      legendFail: 'отказ',
      legendFault: 'сбой',
      now: 'сейчас',
      stripFrom: '−2 мин',
      availNow: (ok, fail) => `в секунду: ${fmt(ok)} успешно · ${fmt(fail)} ${plural(fail, { one: 'отказ', few: 'отказа', many: 'отказов', other: 'отказа' })}`,
      secTitle: (time, ok, fail) => `${time}: успешно ${fmt(ok)}, отказов ${fmt(fail)}`,
      pvJoin: (name) => `Если подключится ${name}`,
      pvLeave: (name) => `Если уйдёт ${name}`,
      pvNote: (keys) => `по ключам, которые видит прокси: ${fmt(keys)}`,
      pvHeads: ['стратегия', 'переедет', 'идеал', 'макс/сред'],
      pvTruncated: 'отмечены только первые переезжающие ключи',
      pvSummary: (moved, keys, pct, ideal) => `Переедет ${fmt(moved)} из ${fmt(keys)} (${pct}); идеал ${ideal}`,
      pvFailed: 'Прогноз не удался: ',
      strategies: { modulo: 'по модулю', ring: 'кольцо', rendezvous: 'рандеву' },
      instructor: 'преподаватель',
      instructorTitle: 'Панель преподавателя (нужен токен администратора)',
      adminTitle: 'Панель преподавателя',
      adminTokenLabel: 'Токен администратора',
      adminSignIn: 'Войти',
      adminTokenNote: 'Он в файле состояния прокси (путь к файлу прокси печатает при запуске). Токен хранится только в этой вкладке и уходит только этому прокси.',
      adminSignOut: 'Забыть токен',
      adminNeedToken: 'Сначала введите токен администратора.',
      adminRejected: 'Прокси не принял токен (401), и вкладка его забыла. Введите его снова.',
      adminReady: 'Токен сохранён для этой вкладки. Ответ прокси на каждое действие появится здесь.',
      adminUnreachable: 'Прокси недоступен: ',
      adminWorking: 'Отправляем…',
      aMode: 'Режим',
      aPlacement: 'Размещение',
      aStrategy: 'Стратегия',
      aVnodes: 'Точек на узел (кольцо)',
      aReplicas: 'Копий каждого ключа',
      aApply: 'Применить',
      aReplication: 'Репликация',
      aReadRepair: 'Восстановление при чтении',
      aAntiEntropy: 'Антиэнтропия каждые (0 — выкл.)',
      aPin: 'Читать только с',
      aHints: 'Hinted handoff (отложенная передача)',
      aNone: '(нет)',
      aFaults: 'Сбои',
      aNode: 'Узел',
      aDelay: 'Задержка, мс',
      aDrop: 'Потери, %',
      aPause: 'Пауза (вызовы висят до таймаута)',
      aFaultSet: 'Включить сбой',
      aFaultClear: 'Снять',
      aFaultClearAll: 'Снять все',
      aMoves: 'Что переедет',
      aJoinName: 'имя нового узла',
      aPreviewJoin: 'Если подключится',
      aPreviewLeave: 'Если уйдёт',
      aPreviewClear: 'Убрать прогноз',
      aRebalance: 'Перебалансировать',
      aCheck: 'Проверка линеаризуемости',
      aDuration: 'Длительность',
      aClients: 'Клиентов',
      aKeys: 'Ключей',
      aCheckRun: 'Запустить проверку',
      aClass: 'Класс',
      aLock: 'Закрыть класс',
      aUnlock: 'Открыть класс',
      aKick: 'Исключить',
      aReset: 'Стереть данные всех узлов…',
      aResetConfirm: 'Стереть данные на всех узлах? Ключи студентов пропадут.',
      aResetYes: 'Да, стереть всё',
      aCancel: 'Отмена',
      aBadNumber: (field) => `${field}: нужно целое число.`,
      aBadInterval: 'Антиэнтропия: интервал вроде 30s или 0, чтобы выключить.',
      aPickNode: 'Сначала выберите узел.',
      aNameNeeded: 'Введите имя узла, который подключился бы.',
    },
  };

  // ---- small helpers ----

  const $ = (id) => document.getElementById(id);

  const store = {
    get(k) { try { return localStorage.getItem(k); } catch { return null; } },
    set(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode */ } },
  };

  // session holds the admin token for this tab only.
  const session = {
    get() { try { return sessionStorage.getItem(ADMIN_TOKEN_KEY) || ''; } catch { return ''; } },
    set(v) { try { sessionStorage.setItem(ADMIN_TOKEN_KEY, v); } catch { /* storage off */ } },
    clear() { try { sessionStorage.removeItem(ADMIN_TOKEN_KEY); } catch { /* storage off */ } },
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

  // setProp sets a property (which may reflect to an attribute) only when
  // it changes: a render repeats itself, the DOM need not.
  function setProp(el, name, value) {
    if (el[name] !== value) el[name] = value;
  }

  function setAttr(el, name, value) {
    if (el.getAttribute(name) !== value) el.setAttribute(name, value);
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
    cls: null, // the class's lessons (Snapshot.class, "class" events), normalized by classFrom
    seconds: new Map(), // Unix second -> {t, ok, fail, faulted}: the availability strip
    stripEnd: 0, // the strip's newest second
    clockOffset: 0, // the proxy's seconds minus this browser's, from the last "second"
    stripSeen: false, // the proxy sends seconds: the strip stays, even when they age out
    preview: null, // the instructor's what-if: {kind, name, answer, keys: Set, truncated}
    verdictOpen: false, // the big verdict shows (a check's verdict just landed)
  };

  const dirty = { head: true, cards: new Set(), order: true, feed: true, flash: new Set(), lessons: true, strip: true, admin: true };

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
      // fault: {delay_ms, drop, pause} or null; hints: writes kept for it;
      // own: its implementation ("Flask/2.3"); misplaced: its keys that
      // belong elsewhere.
      view: { name: view.name, url: '', status: 'up', reason: '', count: 0, fault: null, hints: 0, own: '', misplaced: 0 },
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
  const fmt = (n) => n.toLocaleString(lang);

  const obj = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? v : null);
  const names = (v) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string' && x) : []);

  // setView takes a node's view from a snapshot ("snapshot"), a join of a
  // node new to the page ("join"), or another node event (its change).
  // Hints come with every view; the implementation whenever it is named
  // (a health change need not repeat it). A fault has events of its own,
  // so only a snapshot or a new node's view sets it; the misplaced count
  // too, and a sync, which brings the node's keys with their marks.
  function setView(n, v, from) {
    const whole = from === 'snapshot' || from === 'join';
    n.view.url = str(v.url);
    n.view.status = v.status === 'down' ? 'down' : 'up';
    n.view.reason = str(v.reason);
    n.view.count = num(v.count);
    n.view.hints = num(v.hints);
    if (str(v.own) || whole) n.view.own = str(v.own);
    if (whole) n.view.fault = faultFrom(v.fault);
    if (whole || from === 'sync') n.view.misplaced = num(v.misplaced);
  }

  // faultFrom reads a Fault; null when there is none (or nothing in it).
  function faultFrom(f) {
    f = obj(f);
    if (!f) return null;
    const fault = { delay: Math.max(0, Math.round(num(f.delay_ms))), drop: Math.min(1, Math.max(0, num(f.drop))), pause: f.pause === true };
    return fault.delay || fault.drop || fault.pause ? fault : null;
  }

  function keysFrom(list, limit) {
    if (!Array.isArray(list)) return [];
    return list.filter((k) => k && typeof k.key === 'string').slice(0, limit)
      .map((k) => ({ key: k.key, value: str(k.value), size: num(k.size), fresh: false, misplaced: k.misplaced === true, version: str(k.version) }));
  }

  // classFrom reads a Class defensively; null when there is none.
  function classFrom(c) {
    c = obj(c);
    if (!c) return null;
    const rb = obj(c.rebalance);
    const ck = obj(c.check);
    const n = num(c.n);
    const r = num(c.r);
    const w = num(c.w);
    return {
      n, r, w,
      overlap: typeof c.overlap === 'boolean' ? c.overlap : r + w > n,
      readRepair: str(c.read_repair),
      hinted: c.hinted_handoff === true,
      antiEntropy: ['', '0', '0s', 'off'].includes(str(c.anti_entropy)) ? '' : str(c.anti_entropy),
      divergent: num(c.divergent),
      pinned: str(c.pinned_read),
      misplaced: num(c.misplaced),
      keys: num(c.keys),
      locked: c.locked === true,
      rebalance: rb && {
        running: rb.running === true, moved: num(rb.moved), total: num(rb.total), bytes: num(rb.bytes),
        waiting: names(rb.waiting), error: str(rb.error),
      },
      check: ck && { running: ck.running === true, ops: num(ck.ops), verdict: str(ck.verdict), explanation: str(ck.explanation) },
    };
  }

  // setClass replaces the class's lessons. A verdict that lands live (not
  // one a snapshot brings back) opens the big verdict; a new check closes it.
  function setClass(c, live) {
    const before = state.cls && state.cls.check;
    state.cls = c;
    const after = c && c.check;
    if (!after || (after.running && !after.verdict)) {
      state.verdictOpen = false;
    } else if (live && after.verdict && (!before || before.verdict !== after.verdict ||
      before.explanation !== after.explanation || before.ops !== after.ops || before.running)) {
      state.verdictOpen = true;
    }
    dirty.lessons = true;
    dirty.admin = true;
  }

  // addSecond puts one second of the proxy's answers on the strip.
  function addSecond(x, live) {
    x = obj(x);
    if (!x || !Number.isFinite(x.t)) return;
    const t = Math.floor(x.t);
    state.seconds.set(t, { t, ok: Math.max(0, num(x.ok)), fail: Math.max(0, num(x.fail)), faulted: names(x.faulted) });
    if (t > state.stripEnd) state.stripEnd = t;
    if (live) state.clockOffset = t - Date.now() / 1000;
    state.stripSeen = true;
    dirty.strip = true;
    dirty.lessons = true;
  }

  function trimSeconds() {
    const end = stripNow();
    for (const t of state.seconds.keys()) if (t <= end - STRIP_SECONDS) state.seconds.delete(t);
  }

  // stripNow is the strip's right edge: the newest second the proxy sent,
  // moving on with the clock while it sends none.
  function stripNow() {
    if (!state.stripSeen) return state.stripEnd;
    return Math.max(state.stripEnd, Math.floor(Date.now() / 1000 + state.clockOffset));
  }

  function applySnapshot(s) {
    const wasProxy = state.role === 'proxy';
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
      setView(n, v, 'snapshot');
      n.keys = keysFrom(v.keys, state.limit);
      state.nodes.set(v.name, n);
      state.order.push(v.name);
      dirty.cards.add(n);
      if (n.filter) startSearch(n, 0);
    }
    for (const n of old.values()) dropCard(n, false);
    setClass(classFrom(s.class), false);
    state.seconds = new Map();
    state.stripEnd = 0;
    state.stripSeen = false;
    const secs = Array.isArray(s.seconds) ? s.seconds : [];
    for (const x of secs) addSecond(x, false);
    if (secs.length && state.stripEnd) state.clockOffset = state.stripEnd - Date.now() / 1000;
    trimSeconds();
    if (state.role !== 'proxy' && wasProxy) closeAdmin();
    dirty.head = true;
    dirty.order = true;
    dirty.lessons = true;
    dirty.strip = true;
    dirty.admin = true;
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
        // A put lands on one of the key's owners: its row is in place.
        const item = { key: ev.key, value: str(ev.value), size: num(ev.size), fresh: true, misplaced: false, version: str(ev.version) };
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
        addFeed({
          op: str(ev.op), key: str(ev.key), nodes, result: str(ev.result), status: num(ev.status), error: str(ev.error),
          stale: str(ev.stale), misplaced: str(ev.misplaced),
        });
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
        dirty.admin = true;
        return;
      case 'tunnel':
        state.tunnel = ev.tunnel && typeof ev.tunnel === 'object' ? ev.tunnel : null;
        dirty.head = true;
        return;
      case 'class':
        setClass(classFrom(ev.class), true);
        return;
      case 'fault':
        if (!n) return;
        n.view.fault = faultFrom(ev.fault);
        dirty.cards.add(n);
        dirty.admin = true;
        return;
      case 'second':
        addSecond(ev.second, true);
        trimSeconds();
        return;
      case 'misplaced': {
        // The node's misplaced count, and which of its listed keys are
        // misplaced: the marks are replaced, not added to.
        if (!n) return;
        const marked = new Set(names(ev.keys));
        n.view.misplaced = num(ev.count);
        for (const k of n.keys) k.misplaced = marked.has(k.key);
        if (n.search && n.search.items) for (const k of n.search.items) k.misplaced = marked.has(k.key);
        dirty.cards.add(n);
        return;
      }
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
        dirty.admin = true;
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
    setView(n, { ...v, name }, created ? 'join' : str(ev.change));
    if (ev.change !== 'sync' && !created) n.view.count = count;
    if (ev.change === 'sync') {
      n.keys = keysFrom(v.keys, state.limit);
      if (n.filter) startSearch(n, 0);
    }
    dirty.cards.add(n);
    dirty.admin = true;
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
    dirty.lessons = true;
    dirty.strip = true;
    dirty.admin = true;
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
    if (dirty.lessons) renderLessons();
    if (dirty.strip) renderStrip();
    if (dirty.admin) renderAdmin();
    for (const n of dirty.flash) {
      if (n.card) flash(n.card.el);
      if (n.tile) flash(n.tile.el);
    }
    dirty.head = dirty.order = dirty.feed = dirty.lessons = dirty.strip = dirty.admin = false;
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

    const instructor = $('instructor');
    setProp(instructor, 'hidden', state.role !== 'proxy');
    setProp(instructor, 'title', T.instructorTitle);
    setAttr(instructor, 'aria-label', T.instructorTitle);
    setAttr(instructor, 'aria-expanded', String(!$('admin').hidden));

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
      marks: el.querySelector('.marks'),
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
      marks: el.querySelector('.t-marks'),
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
    c.marks.hidden = fillMarks(c.marks, nodeMarks(n), false) === 0;
    markNode(c.el, n);
    c.count.textContent = v.count.toLocaleString(lang);
    c.countLabel.textContent = plural(v.count, T.keys);
    setProp(c.filter, 'placeholder', T.filter);

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
    // An up node with a fault shows the fault where the green dot was; a
    // down one keeps its red label and lists the fault with its marks.
    const marks = nodeMarks(n);
    const fault = !down && v.fault ? marks.shift() : null;
    if (down && v.fault && v.hints > 0) marks.splice(0, 2, marks[1], marks[0]); // a down node's lesson is its hints
    t.status.textContent = down ? T.down : fault ? fault.short : T.up;
    t.status.classList.toggle('fault', !!fault);
    t.el.classList.toggle('down', down);
    t.count.textContent = v.count.toLocaleString(lang);
    t.label.textContent = plural(v.count, T.keys);
    // A tile has room for two marks, one beside a down node's red label;
    // its title names them all.
    t.el.classList.toggle('has-marks', fillMarks(t.marks, marks.slice(0, down ? 1 : 2), true) > 0);
    markNode(t.el, n);
    const all = (fault ? [fault] : []).concat(marks).map((m) => m.title);
    t.el.title = `#${n.index} ${v.name} — ${down ? T.down + (v.reason ? ': ' + v.reason : '') : T.up}` +
      (all.length ? ' — ' + all.join('; ') : '') + ` — ${T.tileTitle}`;
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
      markRow(row, item);
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
    if (item.version) v.title = `${item.value}\n${item.version}`;
    li.querySelector('.size').textContent = formatSize(item.size);
    li.dataset.key = item.key;
    if (canExplain()) li.tabIndex = 0;
    if (item.fresh) li.classList.add('fresh');
    return { li, value: item.value, size: item.size, mark: li.querySelector('.mark'), marks: '' };
  }

  // markRow marks a key that sits on a node that is not its owner, and a
  // key the instructor's what-if says would move.
  function markRow(row, item) {
    const misplaced = !!item.misplaced;
    const moving = !!state.preview && state.preview.keys.has(item.key);
    const marks = (misplaced ? 'm' : '') + (moving ? 'v' : '');
    if (row.marks === marks && row.lang === lang) return;
    row.marks = marks;
    row.lang = lang;
    row.li.classList.toggle('misplaced', misplaced);
    row.li.classList.toggle('moving', moving);
    const words = [];
    if (misplaced) words.push(T.markMisplaced);
    if (moving) words.push(T.markMoving);
    row.mark.textContent = words.join(' · ');
    row.mark.hidden = !words.length;
  }

  // faultText words a fault, the pause first (it stops everything):
  // "paused · +300 ms · drop 20%".
  function faultText(f) {
    if (!f) return '';
    const parts = [];
    if (f.pause) parts.push(T.faultPause);
    if (f.delay) parts.push(T.faultDelay(f.delay.toLocaleString(lang)));
    if (f.drop) parts.push(T.faultDrop((Math.round(f.drop * 1000) / 10).toLocaleString(lang)));
    return parts.join(' · ');
  }

  // movingCount is how many of the node's listed keys the what-if moves.
  function movingCount(n) {
    if (!state.preview) return 0;
    let c = 0;
    for (const k of n.keys) if (state.preview.keys.has(k.key)) c++;
    return c;
  }

  // nodeMarks are the pills a node's card and tile show: its fault, the
  // writes kept for it, its misplaced keys, its keys a what-if moves, its
  // own implementation. Each: {cls, text (card), short (tile), title}; a
  // count also has n and, for the tile, word.
  function nodeMarks(n) {
    const v = n.view;
    const out = [];
    if (v.fault) {
      const text = faultText(v.fault);
      out.push({ cls: 'mk-fault', text: `${T.faultLabel}: ${text}`, short: text, title: `${T.faultLabel}: ${text}` });
    }
    if (v.hints > 0) {
      out.push({ cls: 'mk-hints', text: T.nHints(v.hints), title: T.nHintsTitle(v.hints), n: v.hints, word: T.tHints });
    }
    if (v.misplaced > 0) {
      out.push({ cls: 'mk-misplaced', text: T.nMisplaced(v.misplaced), title: T.nMisplacedTitle(v.misplaced), n: v.misplaced, word: T.tMisplaced });
    }
    const moving = movingCount(n);
    if (moving > 0) out.push({ cls: 'mk-moving', text: T.nMoving(moving), title: T.nMovingTitle(moving), n: moving, word: T.tMoving(moving) });
    if (v.own) out.push({ cls: 'mk-own', text: v.own, short: v.own, title: `${T.ownTitle}: ${v.own}` });
    return out;
  }

  // fillMarks makes box hold one pill per mark. On a tile (short) a
  // count's number stays whole and its word gives way.
  function fillMarks(box, marks, short) {
    const pills = marks.map((m) => {
      const el = document.createElement('span');
      el.className = 'mk ' + m.cls;
      if (short && m.word !== undefined) {
        const num = document.createElement('span');
        num.className = 'mk-n';
        num.textContent = fmt(m.n);
        const word = document.createElement('span');
        word.className = 'mk-w';
        word.textContent = m.word;
        el.append(num, ' ', word);
        el.classList.add('mk-count');
      } else {
        el.textContent = short ? m.short : m.text;
      }
      el.title = m.title;
      if (m.n !== undefined) el.dataset.n = String(m.n);
      return el;
    });
    box.replaceChildren(...pills);
    return pills.length;
  }

  // markNode sets the data attributes tests and scripts read on a card or
  // a tile (docs/EVENTS.md, "What the page shows").
  function markNode(el, n) {
    const v = n.view;
    const set = (k, val) => { if (val) el.dataset[k] = val; else delete el.dataset[k]; };
    set('fault', v.fault ? faultText(v.fault) : '');
    set('hints', v.hints > 0 ? String(v.hints) : '');
    set('misplaced', v.misplaced > 0 ? String(v.misplaced) : '');
    set('own', v.own);
    el.classList.toggle('faulted', !!v.fault);
    el.classList.toggle('moving', movingCount(n) > 0);
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
    li.classList.add('r-' + (['ok', 'hit', 'miss', 'error', 'late', 'stale'].includes(result) ? result : 'ok'));
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
    } else if (result === 'late') {
      res.textContent = T.late;
      res.title = T.lateTitle;
    } else if (result === 'stale') {
      // "kv1 stale: 41 < 44" from the proxy, in the page's words.
      const m = /^(.+?) stale: (.+)$/s.exec(e.stale);
      res.textContent = m ? T.staleFmt(m[1], m[2]) : e.stale ? `${T.stale}: ${e.stale}` : T.stale;
      res.title = e.stale;
    }
    if (e.misplaced) {
      // A miss on the owner: the key sits on another node.
      const where = li.querySelector('.where');
      where.textContent = T.onNode(e.misplaced);
      where.title = T.onNodeTitle(e.misplaced);
      where.classList.add(colorOf(e.misplaced));
      where.hidden = false;
    }
    if (!e.nodes.length && !['miss', 'error', 'stale', 'late'].includes(result)) li.querySelector('.arrow').hidden = true;
    if (canExplain() && e.key) {
      li.tabIndex = 0;
      li.dataset.key = e.key;
    }
    return li;
  }


  // ---- the class's lessons (the proxy's page only) ----

  // pct words a fraction as a percentage with one decimal.
  function pct(f) {
    return `${(Math.round(f * 1000) / 10).toLocaleString(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 })}%`;
  }


  function renderLessons() {
    const c = state.cls;
    const proxy = state.role === 'proxy';
    const panel = $('class');
    let shown = 0;
    const show = (id, on) => {
      $(id).hidden = !on;
      if (on) shown++;
      return on;
    };

    // A check: progress, then the verdict and its explanation.
    const ck = proxy && c && c.check;
    if (show('l-check', !!ck)) {
      const el = $('l-check');
      const verdict = ck.verdict;
      el.dataset.verdict = verdict;
      el.dataset.ops = String(ck.ops);
      el.dataset.running = String(ck.running);
      el.className = 'lesson check' + (verdict ? ' v-' + verdictClass(verdict) : '') + (ck.running ? ' running' : '');
      el.querySelector('.check-ops').textContent = (ck.running ? T.checkRunning + ' ' : '') + T.checkOps(ck.ops);
      const word = el.querySelector('.check-verdict');
      word.textContent = verdict ? (T.verdicts[verdict] || verdict) : '';
      word.hidden = !verdict;
      const why = el.querySelector('.check-why');
      why.textContent = ck.explanation;
      why.title = ck.explanation;
      why.hidden = !ck.explanation;
    }
    renderVerdict();

    // N, R, W and whether every read meets the last write.
    const replicated = proxy && c && (c.n > 1 || state.mode === 'replication');
    if (show('l-nrw', !!replicated)) {
      const el = $('l-nrw');
      el.querySelector('.fig-n').textContent = fmt(c.n);
      el.querySelector('.fig-r').textContent = fmt(c.r);
      el.querySelector('.fig-w').textContent = fmt(c.w);
      el.querySelector('.nrw-verdict').textContent = c.overlap ? T.overlapYes : T.overlapNo;
      el.classList.toggle('overlap', c.overlap);
      el.classList.toggle('stale', !c.overlap);
      el.dataset.overlap = String(c.overlap);
    }

    // The repairs that run, divergent keys, the pinned read.
    if (show('l-repair', !!(proxy && c && (replicated || c.pinned)))) {
      const el = $('l-repair');
      const line = (sel, text, on, cls) => {
        const li = el.querySelector(sel);
        li.textContent = text;
        li.hidden = !on;
        li.className = sel.slice(1) + (cls ? ' ' + cls : '');
      };
      const mode = c.readRepair || 'async';
      line('.rp-read', T.readRepair(T.repairModes[mode] || mode), replicated, mode === 'off' ? 'off' : '');
      line('.rp-hints', c.hinted ? T.hintsOn : T.hintsOff, replicated, c.hinted ? '' : 'off');
      line('.rp-ae', c.antiEntropy ? T.aeOn(c.antiEntropy) : T.aeOff, replicated, c.antiEntropy ? '' : 'off');
      line('.rp-divergent', T.divergent(c.divergent), replicated && !!c.antiEntropy, c.divergent ? 'diverge' : 'agree');
      el.querySelector('.rp-divergent').dataset.count = String(c.divergent);
      line('.rp-pinned', c.pinned ? T.pinned(c.pinned) : '', !!c.pinned, 'pinned');
    }

    // Misplaced keys over the class.
    const mis = $('l-misplaced');
    const misplaced = proxy && c ? c.misplaced : 0;
    mis.dataset.count = String(misplaced);
    if (show('l-misplaced', !!(proxy && c && (misplaced > 0 || (c.rebalance && c.keys > 0))))) {
      mis.textContent = misplaced > 0 ? T.misplaced(misplaced, c.keys) : T.inPlace(c.keys);
      mis.classList.toggle('none', misplaced === 0);
    }

    // A rebalance's progress.
    const rb = proxy && c && c.rebalance;
    if (show('l-rebalance', !!rb)) {
      const el = $('l-rebalance');
      const frac = rb.total > 0 ? Math.min(1, rb.moved / rb.total) : rb.running ? 0 : 1;
      el.classList.toggle('running', rb.running);
      el.dataset.moved = String(rb.moved);
      el.dataset.total = String(rb.total);
      el.querySelector('.rb-state').textContent = rb.running ? T.rbRunning : T.rbDone;
      const fill = el.querySelector('.progress-fill');
      fill.style.setProperty('--frac', String(frac));
      el.querySelector('.progress').title = pct(frac);
      el.querySelector('.rb-figs').textContent = T.rbFigs(rb.moved, rb.total, formatSize(rb.bytes));
      const wait = el.querySelector('.rb-wait');
      wait.textContent = rb.waiting.length ? T.rbWait(rb.waiting.join(', ')) : '';
      wait.title = T.rbWaitTitle;
      wait.hidden = !rb.waiting.length;
      const err = el.querySelector('.rb-error');
      err.textContent = rb.error;
      err.hidden = !rb.error;
    }

    // The instructor's what-if.
    if (show('l-preview', !!(proxy && state.preview))) renderPreview();

    show('l-locked', !!(proxy && c && c.locked));

    // The availability strip, once the proxy has sent a second.
    if (show('l-avail', proxy && state.stripSeen)) {
      const last = state.seconds.get(state.stripEnd);
      $('l-avail').querySelector('.avail-now').textContent = last ? T.availNow(last.ok, last.fail) : '';
      $('l-avail').querySelector('.axis-from').textContent = T.stripFrom;
    }
    panel.hidden = shown === 0;
  }

  function verdictClass(v) {
    if (v === 'LINEARIZABLE') return 'ok';
    if (v === 'NOT LINEARIZABLE') return 'bad';
    return 'none';
  }

  // renderVerdict shows a verdict that just landed, big, over the page,
  // until a viewer closes it.
  function renderVerdict() {
    const ck = state.role === 'proxy' && state.cls && state.cls.check;
    const open = state.verdictOpen && !!ck && !!ck.verdict;
    const el = $('verdict');
    el.hidden = !open;
    $('verdict-close').title = T.close;
    if (!open) return;
    el.className = 'verdict v-' + verdictClass(ck.verdict);
    el.dataset.verdict = ck.verdict;
    el.querySelector('.verdict-word').textContent = T.verdicts[ck.verdict] || ck.verdict;
    const why = el.querySelector('.verdict-why');
    why.textContent = ck.explanation;
    why.hidden = !ck.explanation;
    el.querySelector('.verdict-ops').textContent = T.checkOps(ck.ops);
  }

  // renderPreview fills the what-if block: each strategy's moved share
  // beside the ideal, and the balance after the change.
  function renderPreview() {
    const p = state.preview;
    const el = $('l-preview');
    el.querySelector('.pv-title').textContent = p.kind === 'join' ? T.pvJoin(p.name) : T.pvLeave(p.name);
    el.querySelector('.pv-clear').title = T.aPreviewClear;
    const a = p.answer;
    el.querySelector('.pv-note').textContent = (a ? T.pvNote(num(a.keys)) : '') + (p.truncated ? ' — ' + T.pvTruncated : '');
    const heads = el.querySelectorAll('thead th');
    T.pvHeads.forEach((h, i) => { heads[i].textContent = h; });
    const body = el.querySelector('tbody');
    const rows = [];
    const by = obj(a && a.by_placement) || {};
    const current = state.placement || 'modulo';
    const strategies = ['modulo', 'ring', 'rendezvous'];
    for (const k of Object.keys(by)) if (!strategies.includes(k)) strategies.push(k);
    for (const name of strategies) {
      let m = obj(by[name]);
      if (!m && name === current && a) m = a;
      if (!m) continue;
      const tr = document.createElement('tr');
      tr.dataset.placement = name;
      if (name === current) tr.className = 'current';
      const load = obj(m.load);
      const cells = [
        T.strategies[name] || name,
        `${pct(num(m.fraction))} (${fmt(num(m.moved))})`,
        pct(num(m.ideal)),
        load ? num(load.max_over_mean).toLocaleString(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : '',
      ];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  }

  // renderStrip draws the last STRIP_SECONDS seconds: answers that
  // succeeded and failed, stacked, and seconds with a fault shaded.
  function renderStrip() {
    const box = $('strip');
    if (box.children.length !== STRIP_SECONDS) {
      const slots = [];
      for (let i = 0; i < STRIP_SECONDS; i++) {
        const el = document.createElement('span');
        el.className = 'sec';
        slots.push(el);
      }
      box.replaceChildren(...slots);
    }
    const end = stripNow();
    let max = 1;
    for (const x of state.seconds.values()) if (x.t > end - STRIP_SECONDS) max = Math.max(max, x.ok + x.fail);
    box.dataset.end = String(end);
    box.dataset.max = String(max);
    for (let i = 0; i < STRIP_SECONDS; i++) {
      const t = end - STRIP_SECONDS + 1 + i;
      const x = state.seconds.get(t);
      const el = box.children[i];
      const key = x ? `${t} ${x.ok} ${x.fail} ${x.faulted.join(',')} ${max} ${lang}` : '';
      if (el.dataset.key === key) continue;
      el.dataset.key = key;
      if (!x) {
        el.className = 'sec';
        for (const a of ['t', 'ok', 'fail', 'faulted']) delete el.dataset[a];
        el.style.removeProperty('--s-ok');
        el.style.removeProperty('--s-fail');
        el.removeAttribute('title');
        continue;
      }
      el.className = 'sec' + (x.faulted.length ? ' faulted' : '') + (x.fail ? ' failing' : '');
      el.dataset.t = String(t);
      el.dataset.ok = String(x.ok);
      el.dataset.fail = String(x.fail);
      el.dataset.faulted = x.faulted.join(' ');
      el.style.setProperty('--s-ok', String(x.ok / max));
      el.style.setProperty('--s-fail', String(x.fail / max));
      const time = new Date(t * 1000).toLocaleTimeString(lang);
      el.title = T.secTitle(time, x.ok, x.fail) + (x.faulted.length ? ` — ${T.faultLabel}: ${x.faulted.join(', ')}` : '');
    }
  }

  // The strip moves on with the clock between the proxy's seconds.
  function tickStrip() {
    if (!state.stripSeen || document.hidden) return;
    const end = stripNow();
    if (String(end) === $('strip').dataset.end) return;
    trimSeconds();
    dirty.strip = true;
    dirty.lessons = true;
    schedule();
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


  // ---- the instructor's panel (needs the admin token) ----

  // The token lives in the tab's sessionStorage (ADMIN_TOKEN_KEY) and in
  // the Authorization header of the panel's own requests: never in the
  // URL, never in the page. A 401 forgets it.
  const admin = {
    seq: 0, // finished actions, on #admin-msg's data-seq
    edited: new Set(), // ids of the fields the instructor changed since their last apply
    login: '', // a note on the token form (why it is shown again)
  };

  // The panel's forms, for "edited" bookkeeping.
  const PLACEMENT_FIELDS = ['a-placement', 'a-vnodes', 'a-preplicas'];
  const REPLICATION_FIELDS = ['a-n', 'a-r', 'a-w', 'a-repair', 'a-ae', 'a-pin', 'a-hints'];

  function openAdmin() {
    if (state.role !== 'proxy') return;
    $('admin').hidden = false;
    document.body.classList.add('admin-open');
    admin.edited.clear();
    dirty.admin = true;
    dirty.head = true;
    schedule();
    requestAnimationFrame(() => {
      const focus = session.get() ? $('admin-close') : $('admin-token');
      focus.focus();
    });
  }

  function closeAdmin() {
    $('admin').hidden = true;
    document.body.classList.remove('admin-open');
    $('admin-token').value = '';
    dirty.head = true;
    schedule();
  }

  // signIn keeps the typed token for this tab and shows the actions.
  function signIn() {
    const input = $('admin-token');
    const token = input.value.trim();
    input.value = '';
    if (!token) {
      admin.login = T.adminNeedToken;
      dirty.admin = true;
      schedule();
      return;
    }
    session.set(token);
    admin.login = '';
    showMsg('ok', T.adminReady, 0);
    dirty.admin = true;
    schedule();
    requestAnimationFrame(() => $('admin-close').focus());
  }

  function signOut(note) {
    session.clear();
    admin.login = note || '';
    $('a-reset-confirm').hidden = true;
    dirty.admin = true;
    schedule();
  }

  // showMsg shows the proxy's answer (or the page's own note) at the top
  // of the panel. status is the HTTP status (0: none).
  function showMsg(kind, text, status) {
    const el = $('admin-msg');
    el.textContent = text;
    el.className = 'admin-msg ' + kind;
    el.dataset.status = String(status || 0);
    if (kind !== 'busy') el.dataset.seq = String(++admin.seq);
  }

  // adminFetch calls the admin API with the token and shows the answer's
  // "message" or "error". It returns whether the proxy said yes.
  async function adminFetch(method, path, body) {
    const token = session.get();
    if (!token) {
      signOut(T.adminNeedToken);
      return false;
    }
    const headers = { Authorization: 'Bearer ' + token, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const ctl = new AbortController();
    init.signal = ctl.signal;
    const timer = setTimeout(() => ctl.abort(), ADMIN_TIMEOUT_MS);
    showMsg('busy', T.adminWorking, 0);
    let res;
    let answer = null;
    try {
      res = await fetch(path, init);
      const text = await res.text();
      try { answer = JSON.parse(text); } catch { answer = null; }
    } catch (e) {
      showMsg('error', T.adminUnreachable + (e && e.name === 'AbortError' ? 'timeout' : String(e && e.message || e)), 0);
      return false;
    } finally {
      clearTimeout(timer);
    }
    const said = obj(answer) ? str(answer.message) || str(answer.error) : '';
    if (res.status === 401) {
      signOut(T.adminRejected);
      showMsg('error', T.adminRejected + (said ? ' ' + said : ''), 401);
      return false;
    }
    showMsg(res.ok ? 'ok' : 'error', said || `HTTP ${res.status}`, res.status);
    return res.ok;
  }

  // Reading the panel's fields.
  const field = (id) => $(id).value.trim();

  function intField(id, label, min) {
    const v = field(id);
    if (!/^\d+$/.test(v) || Number(v) < min) {
      showMsg('error', T.aBadNumber(label), 0);
      return null;
    }
    return Number(v);
  }

  function nodeField(id) {
    const v = $(id).value;
    if (!v) showMsg('error', T.aPickNode, 0);
    return v;
  }

  const labelOf = (id) => {
    const l = document.querySelector(`label[for="${id}"]`);
    return l ? l.textContent : id;
  };

  // The actions: each reads its fields and calls the admin API.
  const actions = {
    'a-mode-sharding': () => adminFetch('POST', '/admin/mode', { mode: 'sharding' }),
    'a-mode-replication': () => adminFetch('POST', '/admin/mode', { mode: 'replication' }),
    'a-placement-go': async () => {
      const vnodes = intField('a-vnodes', labelOf('a-vnodes'), 1);
      const replicas = vnodes === null ? null : intField('a-preplicas', labelOf('a-preplicas'), 1);
      if (replicas === null) return;
      if (await adminFetch('POST', '/admin/placement', { placement: $('a-placement').value, vnodes, replicas })) forget(PLACEMENT_FIELDS);
    },
    'a-replication-go': async () => {
      const n = intField('a-n', 'N', 1);
      const r = n === null ? null : intField('a-r', 'R', 1);
      const w = r === null ? null : intField('a-w', 'W', 1);
      if (w === null) return;
      let ae = field('a-ae') || '0';
      // Go's durations: "30s", "1m30s", "1.5m"; 0 turns it off.
      if (!/^(0|off|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/.test(ae)) {
        showMsg('error', T.aBadInterval, 0);
        return;
      }
      if (ae === 'off' || /^(0+(\.0+)?[a-zµ]*)+$/.test(ae)) ae = '0';
      const body = {
        replicas: n, read_quorum: r, write_quorum: w,
        read_repair: $('a-repair').value, hinted_handoff: $('a-hints').checked,
        anti_entropy: ae, pin_read: $('a-pin').value,
      };
      if (await adminFetch('POST', '/admin/replication', body)) forget(REPLICATION_FIELDS);
    },
    'a-rebalance': () => adminFetch('POST', '/admin/rebalance'),
    'a-fault-set': () => {
      const node = nodeField('a-fnode');
      if (!node) return;
      const delay = intField('a-delay', labelOf('a-delay'), 0);
      if (delay === null) return;
      const drop = Number(field('a-drop') || '0');
      if (!Number.isFinite(drop) || drop < 0 || drop > 100) {
        showMsg('error', T.aBadNumber(labelOf('a-drop')), 0);
        return;
      }
      return adminFetch('POST', '/admin/fault', { node, delay_ms: delay, drop: drop / 100, pause: $('a-pause').checked });
    },
    'a-fault-clear': () => {
      const node = nodeField('a-fnode');
      if (node) return adminFetch('DELETE', '/admin/fault?node=' + encodeURIComponent(node));
    },
    'a-fault-clear-all': () => adminFetch('DELETE', '/admin/fault'),
    'a-check': () => {
      const clients = intField('a-cclients', labelOf('a-cclients'), 1);
      const keys = clients === null ? null : intField('a-ckeys', labelOf('a-ckeys'), 1);
      if (keys === null) return;
      return adminFetch('POST', '/admin/check', { duration: field('a-cdur') || '10s', clients, keys });
    },
    'a-lock': () => adminFetch('POST', '/admin/lock'),
    'a-unlock': () => adminFetch('POST', '/admin/unlock'),
    'a-kick': () => {
      const name = nodeField('a-kick-node');
      if (name) return adminFetch('POST', '/admin/kick', { name });
    },
    'a-reset': () => {
      $('a-reset-confirm').hidden = false;
      $('a-reset-no').focus();
    },
    'a-reset-no': () => { $('a-reset-confirm').hidden = true; },
    'a-reset-yes': () => {
      $('a-reset-confirm').hidden = true;
      return adminFetch('POST', '/admin/reset');
    },
    'a-whatif-join': () => {
      const name = field('a-wjoin');
      if (!name) {
        showMsg('error', T.aNameNeeded, 0);
        return;
      }
      return whatIf('join', name);
    },
    'a-whatif-leave': () => {
      const name = nodeField('a-wleave');
      if (name) return whatIf('leave', name);
    },
    'a-whatif-clear': () => clearPreview(),
    'admin-signout': () => {
      signOut('');
      showMsg('ok', '', 0);
    },
  };

  function forget(ids) {
    for (const id of ids) admin.edited.delete(id);
    dirty.admin = true;
    schedule();
  }

  // whatIf asks the proxy what a join or a leave would move (a public
  // endpoint: no token) and marks the moving keys on the page.
  async function whatIf(kind, name) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), ADMIN_TIMEOUT_MS);
    showMsg('busy', T.adminWorking, 0);
    let res;
    let answer = null;
    try {
      res = await fetch(`/placement/whatif?${kind}=${encodeURIComponent(name)}`, { signal: ctl.signal, cache: 'no-store', headers: { Accept: 'application/json' } });
      try { answer = JSON.parse(await res.text()); } catch { answer = null; }
    } catch (e) {
      showMsg('error', T.pvFailed + (e && e.name === 'AbortError' ? 'timeout' : String(e && e.message || e)), 0);
      return;
    } finally {
      clearTimeout(timer);
    }
    answer = obj(answer);
    if (!res.ok || !answer) {
      showMsg('error', T.pvFailed + ((answer && str(answer.error)) || `HTTP ${res.status}`), res.status);
      return;
    }
    state.preview = { kind, name, answer, keys: new Set(names(answer.moved_keys)), truncated: answer.truncated === true };
    showMsg('ok', T.pvSummary(num(answer.moved), num(answer.keys), pct(num(answer.fraction)), pct(num(answer.ideal))), res.status);
    markAllNodes();
  }

  function clearPreview() {
    if (!state.preview) return;
    state.preview = null;
    markAllNodes();
  }

  function markAllNodes() {
    for (const n of state.nodes.values()) dirty.cards.add(n);
    dirty.lessons = true;
    schedule();
  }

  // fillNodes makes a select list the class's nodes, keeping its choice.
  function fillNodes(sel, none) {
    const want = (none ? [''] : []).concat(state.order);
    const have = Array.from(sel.options, (o) => o.value);
    const label = none ? T.aNone : '';
    if (want.length !== have.length || want.some((v, i) => v !== have[i]) || (none && sel.options[0].textContent !== label)) {
      const keep = sel.value;
      sel.replaceChildren(...want.map((v) => {
        const o = document.createElement('option');
        o.value = v;
        o.textContent = v || label;
        return o;
      }));
      if (want.includes(keep)) sel.value = keep;
    }
  }

  // setField shows the class's value in a field the instructor has not
  // changed since the last apply.
  function setField(id, value) {
    if (admin.edited.has(id)) return;
    const el = $(id);
    if (el.type === 'checkbox') el.checked = !!value;
    else if (el.value !== String(value)) el.value = String(value);
  }

  function renderAdmin() {
    const panel = $('admin');
    if (panel.hidden) return;
    const token = !!session.get();
    setProp($('admin-login'), 'hidden', token);
    setProp($('admin-body'), 'hidden', !token);
    setProp($('admin-close'), 'title', T.close);
    const note = $('admin-login-note');
    setProp(note, 'textContent', admin.login);
    setProp(note, 'hidden', !admin.login);
    setProp($('a-wjoin'), 'placeholder', T.aJoinName);
    for (const o of $('a-placement').options) setProp(o, 'textContent', T.strategies[o.value] || o.value);
    for (const o of $('a-repair').options) setProp(o, 'textContent', T.repairModes[o.value] || o.value);
    for (const sel of document.querySelectorAll('#admin .a-nodes')) fillNodes(sel, sel.dataset.none === '1');
    if (!token) return;

    for (const b of document.querySelectorAll('#admin [data-mode]')) setAttr(b, 'aria-pressed', String(state.mode === b.dataset.mode));
    setField('a-placement', state.placement || 'modulo');
    if (state.replicas > 0) setField('a-preplicas', state.replicas);
    const c = state.cls;
    if (c) {
      if (c.n > 0) setField('a-n', c.n);
      if (c.r > 0) setField('a-r', c.r);
      if (c.w > 0) setField('a-w', c.w);
      if (c.readRepair) setField('a-repair', c.readRepair);
      setField('a-hints', c.hinted);
      setField('a-ae', c.antiEntropy || '0');
      if (state.nodes.has(c.pinned) || !c.pinned) setField('a-pin', c.pinned);
      setAttr($('a-lock'), 'aria-pressed', String(c.locked));
      setAttr($('a-unlock'), 'aria-pressed', String(!c.locked));
    }
    renderNRWHint();

    // The faults in force, each with its own clear button.
    const list = $('a-faults');
    const items = [];
    for (const name of state.order) {
      const n = state.nodes.get(name);
      if (!n.view.fault) continue;
      const li = document.createElement('li');
      const who = document.createElement('span');
      who.className = 'chip ' + colorOf(name);
      who.textContent = name;
      const what = document.createElement('span');
      what.textContent = faultText(n.view.fault);
      const clear = document.createElement('button');
      clear.type = 'button';
      clear.className = 'act small';
      clear.textContent = T.aFaultClear;
      clear.dataset.node = name;
      li.append(who, ' ', what, ' ', clear);
      items.push(li);
    }
    list.replaceChildren(...items);
    list.hidden = !items.length;
  }

  // renderNRWHint says, as the instructor types, whether the quorums
  // they are about to set overlap.
  function renderNRWHint() {
    const n = Number(field('a-n'));
    const r = Number(field('a-r'));
    const w = Number(field('a-w'));
    const hint = $('a-nrw-hint');
    const ok = n > 0 && r > 0 && w > 0;
    setProp(hint, 'textContent', ok ? (r + w > n ? T.overlapYes : T.overlapNo) : '');
    setProp(hint, 'className', 'a-hint' + (ok ? (r + w > n ? ' overlap' : ' stale') : ''));
  }

  function startAdmin() {
    $('instructor').addEventListener('click', () => ($('admin').hidden ? openAdmin() : closeAdmin()));
    $('admin-close').addEventListener('click', closeAdmin);
    $('admin-login').addEventListener('submit', (e) => {
      e.preventDefault();
      signIn();
    });
    $('admin').addEventListener('click', (e) => {
      const b = e.target.closest('button');
      if (!b || !$('admin').contains(b)) return;
      if (b.dataset.node && b.closest('#a-faults')) {
        adminFetch('DELETE', '/admin/fault?node=' + encodeURIComponent(b.dataset.node));
        return;
      }
      const act = actions[b.id];
      if (act) act();
    });
    const edited = (e) => {
      if (e.target.id) admin.edited.add(e.target.id);
      if (['a-n', 'a-r', 'a-w'].includes(e.target.id)) renderNRWHint();
    };
    $('admin-body').addEventListener('input', edited);
    $('admin-body').addEventListener('change', edited);
    $('a-wjoin').addEventListener('keydown', (e) => {
      if (e.key === 'Enter') actions['a-whatif-join']();
    });
    $('l-preview').querySelector('.pv-clear').addEventListener('click', clearPreview);
    $('verdict-close').addEventListener('click', () => {
      state.verdictOpen = false;
      renderVerdict();
    });
    $('verdict').addEventListener('click', (e) => {
      if (e.target === $('verdict')) {
        state.verdictOpen = false;
        renderVerdict();
      }
    });
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
      if (e.key !== 'Escape') return;
      if (state.verdictOpen) {
        state.verdictOpen = false;
        renderVerdict();
      } else if (!$('admin').hidden) {
        closeAdmin();
        $('instructor').focus();
      } else if (state.selected && !e.target.closest('input')) {
        select('');
      }
    });
    startAdmin();
    setInterval(tickStrip, 1000);
    // The instructor's drawer opens under the header, whatever its height.
    const top = document.querySelector('.top');
    const measureTop = () => document.documentElement.style.setProperty('--top-h', `${Math.ceil(top.getBoundingClientRect().height)}px`);
    if (window.ResizeObserver) new ResizeObserver(measureTop).observe(top);
    measureTop();
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
