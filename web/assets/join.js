// kvclass /join page: the server renders the data (join lines, downloads,
// the page's address) already escaped; this script only translates the
// page's own words, formats sizes, marks the visitor's system and copies
// lines. It shares the live page's language and theme choices.
'use strict';

(() => {
  const I18N = {
    en: {
      title: 'kvclass — join the class',
      heading: 'Join the class',
      live: 'Live page',
      qrAlt: "QR code of this page's address",
      scan: 'Scan the code or type the address.',
      get: 'Get kvclass',
      checksums: 'Checksums',
      unpack: 'Unpack it: the program inside is kvclass (kvclass.exe on Windows). Run it from a terminal in that folder as ./kvclass (Windows: .\\kvclass.exe).',
      orGo: 'Or, with Go installed:',
      withGo: 'With Go installed:',
      copy: 'Copy',
      copied: 'Copied',
      joinStep: 'Join the class',
      ask: 'Ask the instructor for the join line: it holds the class code.',
      'line-relay': 'No ngrok account? Paste this line:',
      'line-ngrok': 'With your own ngrok account (NGROK_AUTHTOKEN set):',
      'line-lan': 'On the classroom network:',
      'line-plain': 'Paste this line in a terminal:',
      then: 'Then watch your node appear on the live page.',
      yours: 'your system',
      otherLang: 'RU',
      langTitle: 'Переключить на русский',
      themeTitle: 'Switch light / dark theme',
      units: ['B', 'KiB', 'MiB', 'GiB'],
    },
    ru: {
      title: 'kvclass — подключиться к классу',
      heading: 'Подключиться к классу',
      live: 'Живая страница',
      qrAlt: 'QR-код адреса этой страницы',
      scan: 'Отсканируйте код или наберите адрес.',
      get: 'Скачайте kvclass',
      checksums: 'Контрольные суммы',
      unpack: 'Распакуйте архив: внутри программа kvclass (kvclass.exe в Windows). Запускайте её из терминала в этой папке: ./kvclass (Windows: .\\kvclass.exe).',
      orGo: 'Или, если установлен Go:',
      withGo: 'Если установлен Go:',
      copy: 'Копировать',
      copied: 'Скопировано',
      joinStep: 'Подключитесь к классу',
      ask: 'Строку подключения спросите у преподавателя: в ней код класса.',
      'line-relay': 'Нет аккаунта ngrok? Вставьте эту строку:',
      'line-ngrok': 'Со своим аккаунтом ngrok (задан NGROK_AUTHTOKEN):',
      'line-lan': 'В сети класса:',
      'line-plain': 'Вставьте эту строку в терминал:',
      then: 'И смотрите, как ваш узел появится на живой странице.',
      yours: 'ваша система',
      otherLang: 'EN',
      langTitle: 'Switch to English',
      themeTitle: 'Сменить тему: светлая / тёмная',
      units: ['Б', 'КиБ', 'МиБ', 'ГиБ'],
    },
  };

  const $ = (id) => document.getElementById(id);
  const store = {
    get(k) { try { return localStorage.getItem(k); } catch { return null; } },
    set(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode */ } },
  };

  function pickLang() {
    const saved = store.get('kvclass.lang');
    if (saved && I18N[saved]) return saved;
    for (const l of navigator.languages || [navigator.language || '']) {
      const p = String(l).toLowerCase().slice(0, 2);
      if (I18N[p]) return p;
    }
    return 'en';
  }

  let lang = pickLang();

  function formatSize(n, T) {
    let v = n;
    let u = 0;
    while (v >= 1024 && u < T.units.length - 1) { v /= 1024; u++; }
    return `${v.toLocaleString(lang, { maximumFractionDigits: u ? 1 : 0 })} ${T.units[u]}`;
  }

  function setLang(l) {
    lang = l;
    const T = I18N[l];
    document.documentElement.lang = l;
    document.title = T.title;
    for (const el of document.querySelectorAll('[data-i18n]')) {
      const s = T[el.dataset.i18n];
      if (typeof s === 'string') el.textContent = s;
    }
    for (const el of document.querySelectorAll('[data-i18n-alt]')) {
      const s = T[el.dataset.i18nAlt];
      if (typeof s === 'string') el.alt = s;
    }
    for (const el of document.querySelectorAll('.dl-size[data-size]')) {
      const n = Number(el.dataset.size);
      if (Number.isFinite(n) && n >= 0) el.textContent = formatSize(n, T);
    }
    for (const el of document.querySelectorAll('.yours')) el.textContent = T.yours;
    $('lang').textContent = T.otherLang;
    $('lang').title = T.langTitle;
    $('theme').title = T.themeTitle;
  }

  function currentTheme() {
    const saved = store.get('kvclass.theme');
    if (saved === 'dark' || saved === 'light') return saved;
    return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  }

  function applyTheme() {
    document.documentElement.dataset.theme = currentTheme();
  }

  // visitorOS guesses the visitor's GOOS, to point at the right download.
  function visitorOS() {
    const p = String((navigator.userAgentData && navigator.userAgentData.platform) || navigator.platform || navigator.userAgent).toLowerCase();
    if (p.includes('win')) return 'windows';
    if (p.includes('mac')) return 'darwin';
    if (p.includes('android')) return '';
    if (p.includes('linux')) return 'linux';
    return '';
  }

  function markMine() {
    const os = visitorOS();
    if (!os) return;
    for (const li of document.querySelectorAll('.download')) {
      if (li.dataset.os !== os) continue;
      li.classList.add('mine');
      const tag = document.createElement('span');
      tag.className = 'yours';
      li.querySelector('.dl-link').append(tag);
    }
  }

  async function copy(button) {
    const code = button.parentElement.querySelector('.cmd-text');
    if (!code) return;
    const text = code.textContent;
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        ok = true;
      }
    } catch { ok = false; }
    if (!ok) {
      // Without the clipboard API (plain http on a LAN), select the line so
      // that Ctrl-C copies it.
      const range = document.createRange();
      range.selectNodeContents(code);
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      return;
    }
    const T = I18N[lang];
    button.textContent = T.copied;
    button.classList.add('done');
    setTimeout(() => {
      button.textContent = I18N[lang].copy;
      button.classList.remove('done');
    }, 1500);
  }

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
    for (const b of document.querySelectorAll('button.copy')) b.addEventListener('click', () => copy(b));
    markMine();
    setLang(lang);
  }

  start();
})();
