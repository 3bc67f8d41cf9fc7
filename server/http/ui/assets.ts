// The UI's only stylesheet and script, served by the server itself (the Content-Security-Policy
// allows nothing else). File names carry a content hash, so browsers may cache them.
// The script is progressive enhancement: every page works without it, except the live log,
// which without it shows the output as it was when the page was rendered.

import { createHash } from 'node:crypto';

const CSS = `
:root{color-scheme:light dark;--bg:#f5f7fa;--fg:#1b2330;--muted:#5b6576;--card:#fff;--line:#dce1e8;--head:#eef1f5;
--accent:#0a62c0;--ok:#1a7f37;--warn:#9a6700;--bad:#c62828;--log-bg:#0d1117;--log-fg:#e6edf3}
@media (prefers-color-scheme:dark){:root{--bg:#0e1217;--fg:#e6edf3;--muted:#9aa6b4;--card:#161b22;--line:#2d333b;
--head:#1c2128;--accent:#58a6ff;--ok:#3fb950;--warn:#d29922;--bad:#f85149}}
*{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--accent)}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
header.top{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.2rem;padding:.6rem 1rem;background:var(--card);border-bottom:1px solid var(--line)}
header.top .brand{font-weight:700;font-size:1.1rem;color:inherit;text-decoration:none}
header.top .brand span{color:var(--accent)}
header.top nav{display:flex;gap:1rem;flex-wrap:wrap}
header.top .who{margin-left:auto;color:var(--muted);font-size:.9em}
main{max-width:1440px;margin:0 auto;padding:1rem}
h1{font-size:1.3rem;margin:.2rem 0 1rem;word-break:break-word}
.counts{display:grid;grid-template-columns:repeat(auto-fit,minmax(8.5rem,1fr));gap:.75rem;margin-bottom:1rem}
.count{display:block;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.55rem .8rem;color:inherit;text-decoration:none}
.count b{display:block;font-size:1.6rem;line-height:1.2}
.count span{color:var(--muted)}
section.card{background:var(--card);border:1px solid var(--line);border-radius:8px;margin-bottom:1rem;min-width:0}
section.card>h2{font-size:1rem;margin:0;padding:.55rem .8rem;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem .8rem;border-bottom:1px solid var(--line)}
section.card>h2 .n{color:var(--muted);font-weight:400}
.table-wrap{overflow:auto;max-height:70vh;-webkit-overflow-scrolling:touch}
table{border-collapse:separate;border-spacing:0;width:100%}
th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);white-space:nowrap;vertical-align:top}
thead th{position:sticky;top:0;z-index:1;background:var(--head);font-weight:600}
tbody tr:hover{background:var(--head)}
td.wrap{white-space:normal;word-break:break-word;min-width:14rem}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.empty{padding:.8rem;color:var(--muted);margin:0}
.more{padding:.5rem .8rem;color:var(--muted);margin:0}
.muted{color:var(--muted)}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.85em;border:1px solid var(--line);white-space:nowrap}
.state-running,.state-drifted{color:var(--warn);border-color:var(--warn)}
.state-succeeded,.state-clean{color:var(--ok);border-color:var(--ok)}
.state-failed,.state-error,.state-interrupted{color:var(--bad);border-color:var(--bad)}
input[type=search]{font:inherit;font-weight:400;padding:.3rem .55rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);flex:1 1 10rem;max-width:22rem;min-width:0}
button,.button{font:inherit;display:inline-block;padding:.45rem 1rem;border-radius:6px;border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer;text-decoration:none}
button.danger{background:var(--bad);border-color:var(--bad);color:#fff}
.actions{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;padding:.8rem}
.flash{border:1px solid var(--line);border-left:4px solid var(--ok);background:var(--card);border-radius:6px;padding:.6rem .8rem;margin-bottom:1rem}
.flash.error{border-left-color:var(--bad)}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.3rem 1rem;padding:.8rem;margin:0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;word-break:break-word}
pre.log{margin:0;padding:.8rem;min-height:6rem;max-height:75vh;overflow:auto;white-space:pre-wrap;word-break:break-all;font-size:12.5px;line-height:1.45;background:var(--log-bg);color:var(--log-fg);border-radius:0 0 8px 8px}
footer{max-width:1440px;margin:0 auto;padding:0 1rem 1.5rem;color:var(--muted);font-size:.85em}
@media (max-width:640px){main{padding:.5rem}h1{font-size:1.1rem}.count b{font-size:1.3rem}
th,td{padding:.3rem .45rem}dl.facts{grid-template-columns:minmax(0,1fr)}dl.facts dt{font-weight:600;color:var(--fg)}
header.top .who{margin-left:0}}
`;

const JS = `'use strict';
(function () {
  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    var table = document.getElementById(input.getAttribute('data-filter'));
    if (!table || !table.tBodies[0]) return;
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var texts = rows.map(function (r) { return r.textContent.toLowerCase(); });
    var shown = document.querySelector('[data-filter-count="' + table.id + '"]');
    input.hidden = false;
    input.addEventListener('input', function () {
      var q = input.value.trim().toLowerCase();
      var n = 0;
      rows.forEach(function (r, i) { var hit = q === '' || texts[i].indexOf(q) >= 0; r.hidden = !hit; if (hit) n++; });
      if (shown) shown.textContent = q === '' ? '' : n + ' shown';
    });
  });

  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) { event.preventDefault(); return; }
      var confirmed = form.querySelector('input[name="confirm"]');
      if (confirmed) confirmed.value = 'yes';
    });
  });

  var log = document.querySelector('pre[data-events]');
  if (!log) return;
  var state = document.querySelector('[data-job-state]');
  var count = document.querySelector('[data-line-count]');
  var lines = Number(log.getAttribute('data-lines') || '0');
  var source = new EventSource(log.getAttribute('data-events'));
  function nearBottom() { return log.scrollTop + log.clientHeight >= log.scrollHeight - 48; }
  function add(text) {
    var stick = nearBottom();
    log.appendChild(document.createTextNode(text + '\\n'));
    if (stick) log.scrollTop = log.scrollHeight;
  }
  function setState(text) {
    if (!state) return;
    state.textContent = text;
    state.className = 'badge state-' + text.replace(/[^a-z]/g, '');
  }
  source.addEventListener('open', function () { if (state && state.textContent === 'reconnecting') setState(state.getAttribute('data-job-state')); });
  source.addEventListener('line', function (event) {
    add(JSON.parse(event.data));
    lines += 1;
    if (count) count.textContent = String(lines);
  });
  source.addEventListener('dropped', function (event) {
    add('… ' + JSON.parse(event.data) + ' earlier lines were dropped …');
  });
  source.addEventListener('end', function (event) {
    var end = JSON.parse(event.data);
    setState(end.state);
    if (state) state.setAttribute('data-job-state', end.state);
    log.setAttribute('data-ended', end.state);
    source.close();
  });
  source.addEventListener('error', function () {
    if (source.readyState === EventSource.CONNECTING) setState('reconnecting');
  });
})();
`;

export interface Asset {
  /** Path under the server root, with a content hash. */
  path: string;
  type: string;
  body: string;
}

function asset(name: string, ext: 'css' | 'js', type: string, body: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 10);
  return { path: `/ui/assets/${name}.${hash}.${ext}`, type, body };
}

export const STYLESHEET: Asset = asset('tideline', 'css', 'text/css; charset=utf-8', CSS);
export const SCRIPT: Asset = asset('tideline', 'js', 'text/javascript; charset=utf-8', JS);
export const ASSETS: readonly Asset[] = [STYLESHEET, SCRIPT];
