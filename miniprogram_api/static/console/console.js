/* The authority's console: photo review queue and licence pages.
 * Every call goes to /console/api (the same services as the authority API).
 * The session is an HttpOnly cookie; state-changing calls send X-CSRF-Token.
 * Identifiers typed in a search travel in request bodies, never in URLs. */
"use strict";

(function () {
  var STATUS = { valid: "有效", suspended: "已暂扣", revoked: "已吊销", cancelled: "已注销", expired: "已过期" };
  var ACTIONS = { suspend: "暂扣", reinstate: "恢复", revoke: "吊销", cancel: "注销" };
  var CHANGES = { issue: "发证", change: "变更", renewal: "换证", replacement: "补证", annual_review: "年审" };
  var VERDICTS = {
    valid: "有效", expired: "已过期", not_yet_valid: "尚未生效", revoked: "已吊销", suspended: "已暂扣",
    cancelled: "已注销", superseded: "旧版本", qr_expired: "二维码过期", code_mismatch: "校验码不符",
    bad_signature: "签名无效", unknown_key: "密钥不可信", replayed: "重复使用", malformed: "无法识别",
    status_unavailable: "状态不可查"
  };
  var MODES = { scan: "扫码", offline: "离线码", lookup: "无码查询", print: "纸质凭证", copy: "加注件" };
  var SEALS = { valid: "✓ 有效", invalid: "✗ 无效", unknown_key: "✗ 密钥不可信" };

  var $ = function (id) { return document.getElementById(id); };
  var csrf = null;
  var me = null;
  var labels = {};
  var queue = [];
  var cursor = null;
  var current = -1;
  var licenceRef = null;
  var busy = false;

  function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }

  function time(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    var p = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  async function api(method, path, body) {
    var headers = {};
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (method !== "GET" && csrf) { headers["X-CSRF-Token"] = csrf; }
    var response;
    try {
      response = await fetch(path, {
        method: method, headers: headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body)
      });
    } catch (e) {
      return { status: 0, body: { detail: "无法连接服务器" } };
    }
    var data = null;
    if ((response.headers.get("content-type") || "").indexOf("json") >= 0) { data = await response.json(); }
    if (response.status === 401 && path !== "/console/api/session") { signedOut("登录已失效，请重新登录。"); }
    return { status: response.status, body: data };
  }

  function problem(answer, fallback) {
    if (answer.status === 0) { return "无法连接服务器，请检查网络。"; }
    if (answer.status === 409) { return "该记录已被处理或当前状态不允许此操作。"; }
    if (answer.status === 403) { return "无权执行此操作。"; }
    if (answer.status === 404) { return "未找到，或不在您的管辖范围内。"; }
    if (answer.status === 429) { return "操作过于频繁，请稍后再试。"; }
    if (answer.status === 503) { return "服务暂不可用，请稍后重试。"; }
    return fallback + (answer.body && answer.body.code ? "（" + answer.body.code + "）" : "");
  }

  function say(id, message, good) {
    var el = $(id);
    text(el, message);
    el.className = "message " + (good ? "good" : "bad");
  }

  // -- session -------------------------------------------------------------------------

  function signedIn(session) {
    csrf = session.csrf_token;
    me = session.user;
    text($("who-text"), me.name + "（" + (me.role === "supervisor" ? "主管" : "审核员") + "，" + me.division + "）");
    $("sign-in").hidden = true;
    $("nav").hidden = false;
    $("who").hidden = false;
    $("status-form").hidden = me.role !== "supervisor";
    show("review");
  }

  function signedOut(message) {
    csrf = null;
    me = null;
    $("nav").hidden = true;
    $("who").hidden = true;
    document.querySelectorAll(".view").forEach(function (v) { v.hidden = true; });
    $("sign-in").hidden = false;
    if (message) { text($("sign-in-error"), message); $("sign-in-error").hidden = false; }
    $("username").focus();
  }

  async function signIn(event) {
    event.preventDefault();
    $("sign-in-error").hidden = true;
    var answer = await api("POST", "/console/api/session", { username: $("username").value.trim(), password: $("password").value });
    $("password").value = "";
    if (answer.status !== 201) {
      text($("sign-in-error"), answer.status === 401 ? "用户名或密码不正确。" : problem(answer, "登录失败"));
      $("sign-in-error").hidden = false;
      return;
    }
    signedIn(answer.body);
  }

  async function signOut() {
    await api("DELETE", "/console/api/session");
    signedOut("");
    $("sign-in-error").hidden = true;
  }

  function show(view) {
    document.querySelectorAll(".view").forEach(function (v) { v.hidden = v.id !== "view-" + view; });
    document.querySelectorAll(".tab").forEach(function (t) { t.classList.toggle("active", t.getAttribute("data-view") === view); });
    if (view === "review") { loadQueue(true); }
    if (view === "search") { $("search-value").focus(); }
    if (view === "figures") { loadFigures(); }
  }

  // -- faces ---------------------------------------------------------------------------

  function fillFace(dl, kind, face) {
    dl.textContent = "";
    var spec = (labels[kind] && labels[kind].fields) || {};
    var names = Object.keys(spec).filter(function (n) { return n in face; });
    Object.keys(face).forEach(function (n) { if (names.indexOf(n) < 0) { names.push(n); } });
    names.forEach(function (name) {
      var value = face[name];
      if (value === null || value === "" || (typeof value === "object" && !Array.isArray(value))) { return; }
      var choices = (spec[name] && spec[name].choices) || {};
      var shown = Array.isArray(value) ? value.map(function (v) { return choices[v] || v; }).join("、") : (choices[value] || value);
      dl.appendChild(text(document.createElement("dt"), (spec[name] && spec[name].label) || name));
      dl.appendChild(text(document.createElement("dd"), shown));
    });
  }

  function kindName(kind) { return (labels[kind] && labels[kind].name) || kind; }

  // -- review queue --------------------------------------------------------------------

  async function loadQueue(fresh) {
    if (fresh) { queue = []; cursor = null; current = -1; }
    var path = "/console/api/claims?limit=50" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    var answer = await api("GET", path);
    if (answer.status !== 200) { return; }
    queue = queue.concat(answer.body.items);
    cursor = answer.body.next_cursor;
    renderQueue();
    if (current < 0 && queue.length) { select(0); }
    if (!queue.length) { $("claim").hidden = true; }
  }

  function renderQueue() {
    var list = $("queue");
    list.textContent = "";
    queue.forEach(function (item, i) {
      var li = document.createElement("li");
      li.setAttribute("data-claim", item.id);
      li.className = i === current ? "active" : "";
      li.appendChild(text(document.createElement("strong"), item.holder_name + " · " + item.kind_name));
      li.appendChild(text(document.createElement("span"), "提交于 " + time(item.submitted_at) + " · " + item.issuer_division)).className = "sub";
      li.addEventListener("click", function () { select(i); });
      list.appendChild(li);
    });
    $("queue-empty").hidden = queue.length > 0;
    $("queue-more").hidden = !cursor;
    text($("queue-total"), queue.length ? "（" + queue.length + (cursor ? "+" : "") + "）" : "");
    text($("queue-count"), queue.length ? String(queue.length) + (cursor ? "+" : "") : "");
  }

  async function select(i) {
    if (i < 0 || i >= queue.length) { return; }
    current = i;
    renderQueue();
    var item = queue[i];
    var active = $("queue").children[i];
    if (active && active.scrollIntoView) { active.scrollIntoView({ block: "nearest" }); }
    closeReject();
    say("claim-message", "", true);
    $("claim").hidden = false;
    $("claim").setAttribute("data-claim", item.id);
    text($("claim-title"), item.kind_name + " · " + item.holder_name);
    text($("claim-submitted"), "提交于 " + time(item.submitted_at) + "，证件号 " + item.holder_id_number);
    $("claim-photo").src = item.photo_url;
    text($("claim-photo-size"), item.photo_width + "×" + item.photo_height);
    $("claim-face").textContent = "";
    var answer = await api("GET", "/console/api/licences/" + encodeURIComponent(item.licence_ref) + "/face");
    if (queue[current] !== item) { return; }
    if (answer.status === 200) {
      fillFace($("claim-face"), answer.body.licence.kind, answer.body.face);
      text($("claim-masked"), answer.body.masked ? "（个人信息已脱敏）" : "");
    }
  }

  async function decide(action) {
    var item = queue[current];
    if (!item || busy) { return; }
    var reason = $("reject-reason").value.trim();
    if (action === "reject" && !reason) { openReject(); return; }
    busy = true;
    var path = "/console/api/claims/" + item.id + "/" + action;
    var answer = await api("POST", path, action === "reject" ? { reason: reason } : undefined);
    busy = false;
    if (answer.status !== 200 && answer.status !== 409) {
      say("claim-message", problem(answer, "操作失败"), false);
      return;
    }
    queue.splice(current, 1);
    if (current >= queue.length) { current = queue.length - 1; }
    renderQueue();
    var done = answer.status === 409 ? "该申请已被他人处理" : (action === "approve" ? "已通过：" : "已驳回：") + item.holder_name;
    if (queue.length) {
      await select(current);
    } else if (cursor) {
      await loadQueue(false);
    } else {
      $("claim").hidden = true;
    }
    if (!$("claim").hidden) { say("claim-message", done, answer.status === 200); }
    var log = $("queue-empty");
    if (!queue.length) { text(log, done + "。没有待审核的照片。"); }
  }

  function openReject() {
    if (current < 0) { return; }
    $("reject-form").hidden = false;
    $("reject-reason").focus();
  }

  function closeReject() {
    $("reject-form").hidden = true;
    $("reject-reason").value = "";
  }

  function typing(event) {
    var t = event.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
  }

  function keys(event) {
    if (!me || $("view-review").hidden || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "Escape") { closeReject(); return; }
    if (typing(event)) { return; }
    var key = event.key.toLowerCase();
    if (key === "j" || event.key === "ArrowDown") { event.preventDefault(); select(current + 1); }
    else if (key === "k" || event.key === "ArrowUp") { event.preventDefault(); select(current - 1); }
    else if (key === "a") { event.preventDefault(); decide("approve"); }
    else if (key === "r") { event.preventDefault(); openReject(); }
  }

  // -- licences ------------------------------------------------------------------------

  async function search(event) {
    event.preventDefault();
    var body = {};
    body[$("search-field").value] = $("search-value").value.trim();
    var answer = await api("POST", "/console/api/licences/search", body);
    var rows = $("results").querySelector("tbody");
    rows.textContent = "";
    if (answer.status !== 200) {
      $("results").hidden = true;
      say("search-message", answer.status === 422 ? "查询内容格式不正确。" : problem(answer, "查询失败"), false);
      return;
    }
    var items = answer.body.items;
    say("search-message", items.length ? "找到 " + items.length + " 个证照" : "未找到证照。", items.length > 0);
    items.forEach(function (l) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-ref", l.ref);
      [l.kind_name, l.number, STATUS[l.status] || l.status, "第 " + l.version + " 版", l.valid_until || "长期", l.issuer_name].forEach(function (v) {
        tr.appendChild(text(document.createElement("td"), v));
      });
      tr.addEventListener("click", function () { openLicence(l.ref); });
      rows.appendChild(tr);
    });
    $("results").hidden = items.length === 0;
    if (items.length === 1) { openLicence(items[0].ref); }
  }

  function row(tbody, values) {
    var tr = document.createElement("tr");
    values.forEach(function (v) {
      var td = document.createElement("td");
      if (v && v.className) { td.className = v.className; text(td, v.text); } else { text(td, v); }
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
  }

  async function openLicence(ref) {
    licenceRef = ref;
    var answer = await api("GET", "/console/api/licences/" + encodeURIComponent(ref));
    if (answer.status !== 200) { say("search-message", problem(answer, "读取失败"), false); return; }
    var d = answer.body;
    var l = d.licence;
    $("licence").hidden = false;
    $("licence").setAttribute("data-ref", l.ref);
    text($("licence-title"), l.kind_name + " · " + l.number);
    var badge = $("licence-status");
    text(badge, STATUS[l.status] || l.status);
    badge.className = "status status-" + l.status;
    badge.setAttribute("data-status", l.status);
    text($("licence-summary"), "第 " + l.version + " 版 · 有效期 " + (l.valid_from || "") + " 至 " + (l.valid_until || "长期") +
      " · " + l.issuer_name + "（" + l.issuer_division + "）· 更新于 " + time(l.updated_at));
    text($("licence-masked"), d.masked ? "（个人信息已脱敏）" : "");
    fillFace($("licence-face"), l.kind, d.face);
    var versions = $("versions").querySelector("tbody");
    versions.textContent = "";
    d.versions.forEach(function (v) {
      row(versions, ["第 " + v.version + " 版", (CHANGES[v.change_type] || v.change_type) + (v.reason ? "：" + v.reason : ""),
        time(v.issued_at), (v.valid_from || "") + " 至 " + (v.valid_until || "长期"), v.seal_kid,
        { className: "seal-" + v.seal, text: SEALS[v.seal] || v.seal }]);
    });
    var history = $("history").querySelector("tbody");
    history.textContent = "";
    d.status_history.forEach(function (c) {
      row(history, [time(c.at), (ACTIONS[c.action] || c.action) + "（" + (STATUS[c.from_status] || c.from_status) + " → " +
        (STATUS[c.to_status] || c.to_status) + "）", c.reason, c.authority]);
    });
    $("history-empty").hidden = d.status_history.length > 0;
    var log = $("verifications").querySelector("tbody");
    log.textContent = "";
    d.verifications.forEach(function (v) {
      row(log, [time(v.at), VERDICTS[v.verdict] || v.verdict, MODES[v.mode] || v.mode, v.officer_division, v.officer_badge]);
    });
    $("verifications-empty").hidden = d.verifications.length > 0;
    $("status-confirm").hidden = true;
    $("licence").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function askStatus(event) {
    event.preventDefault();
    var action = $("status-action").value;
    var reason = $("status-reason").value.trim();
    if (!reason) { return; }
    text($("status-confirm-text"), "确认将 " + $("licence-title").textContent + " " + ACTIONS[action] + "？原因：" + reason +
      (action === "revoke" || action === "cancel" ? "。此操作不可恢复。" : ""));
    $("status-confirm").hidden = false;
    $("status-confirm-yes").focus();
  }

  async function changeStatus() {
    var action = $("status-action").value;
    var answer = await api("POST", "/console/api/licences/" + encodeURIComponent(licenceRef) + "/status",
      { action: action, reason: $("status-reason").value.trim() });
    $("status-confirm").hidden = true;
    if (answer.status !== 200) { say("licence-message", problem(answer, "变更失败"), false); return; }
    $("status-reason").value = "";
    var listed = $("results").querySelector("tr[data-ref='" + licenceRef + "'] td:nth-child(3)");
    if (listed) { text(listed, STATUS[answer.body.status] || answer.body.status); }
    await openLicence(licenceRef);
    say("licence-message", "已" + ACTIONS[action] + "，核验端即时生效。", true);
  }

  // -- figures -------------------------------------------------------------------------

  var RATES = [["issuance_rate", "制证率"], ["activation_rate", "激活率"], ["compliance_rate", "数据合规率"], ["aggregation_rate", "归集率"]];
  var LEVELS = { province: "省", city: "市", county: "县（区）" };
  var SVG = "http://www.w3.org/2000/svg";
  var shown = null;

  function percent(value) { return value == null ? "—" : (value * 100).toFixed(1) + "%"; }

  function svg(name, attributes, parent) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (k) { el.setAttribute(k, attributes[k]); });
    if (parent) { parent.appendChild(el); }
    return el;
  }

  function drawChart(months) {
    var chart = $("chart");
    chart.textContent = "";
    // Drawn at the box's own width, so the labels keep their size on a phone.
    var width = Math.max(300, Math.round(chart.parentNode.clientWidth || 760));
    var left = 48, right = 40, top = 12, bottom = 36, height = 280;
    chart.setAttribute("viewBox", "0 0 " + width + " " + height);
    var w = width - left - right, h = height - top - bottom;
    var x = function (i) { return left + (months.length < 2 ? w / 2 : (w * i) / (months.length - 1)); };
    var y = function (v) { return top + h - v * h; };
    [0, 0.25, 0.5, 0.75, 1].forEach(function (v) {
      svg("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), "class": "grid" }, chart);
      text(svg("text", { x: left - 8, y: y(v) + 4, "text-anchor": "end", "class": "axis" }, chart), (v * 100) + "%");
    });
    var step = Math.ceil(months.length / Math.max(2, Math.floor(w / 64)));
    months.forEach(function (m, i) {
      if ((months.length - 1 - i) % step === 0) {
        text(svg("text", { x: x(i), y: height - 12, "text-anchor": "middle", "class": "axis" }, chart), m.period);
      }
    });
    RATES.forEach(function (rate, r) {
      var path = "";
      var open = false;
      months.forEach(function (m, i) {
        var v = m.row ? m.row[rate[0]] : null;
        if (v == null) { open = false; return; }
        path += (open ? " L " : " M ") + x(i).toFixed(1) + " " + y(v).toFixed(1);
        open = true;
        var dot = svg("circle", { cx: x(i), cy: y(v), r: 3.5, "class": "c" + r }, chart);
        text(svg("title", {}, dot), m.period + " " + rate[1] + " " + percent(v));
      });
      if (path) { svg("path", { d: path.trim(), "class": "line c" + r }, chart); }
    });
  }

  async function loadFigures() {
    var division = $("figures-division").value || me.division;
    var months = $("figures-months").value;
    var answer = await api("GET", "/console/api/figures?division=" + encodeURIComponent(division) + "&months=" + encodeURIComponent(months));
    if (answer.status !== 200) { text($("figures-asof"), problem(answer, "读取失败")); return; }
    var d = answer.body;
    text($("figures-asof"), "截至 " + d.overall.as_of + "（有效期按当日判断）");
    var select = $("figures-division");
    if (!select.options.length) {
      d.overall.items.forEach(function (row) {
        var option = document.createElement("option");
        option.value = row.division;
        text(option, row.division + " " + LEVELS[row.level]);
        select.appendChild(option);
      });
      if (!d.overall.items.length) {
        var own = document.createElement("option");
        own.value = me.division;
        text(own, me.division);
        select.appendChild(own);
      }
      select.value = division;
    }
    shown = d.months;
    drawChart(shown);
    var legend = $("legend");
    legend.textContent = "";
    RATES.forEach(function (rate, r) {
      var li = document.createElement("li");
      li.className = "c" + r;
      li.appendChild(text(document.createElement("span"), rate[1]));
      legend.appendChild(li);
    });
    var monthly = $("monthly").querySelector("tbody");
    monthly.textContent = "";
    d.months.slice().reverse().forEach(function (m) {
      var r = m.row;
      row(monthly, [m.period].concat(RATES.map(function (rate) { return r ? percent(r[rate[0]]) : "—"; }),
        [r ? r.valid : 0, r ? r.issued : 0]));
    });
    var overall = $("overall").querySelector("tbody");
    overall.textContent = "";
    d.overall.items.forEach(function (r) {
      row(overall, [r.division, LEVELS[r.level], r.valid, r.issued, percent(r.issuance_rate), r.activated,
        percent(r.activation_rate), r.versions, r.compliant, percent(r.compliance_rate), r.acknowledged, percent(r.aggregation_rate)]);
      overall.lastChild.className = "level-" + r.level;
    });
  }

  // -- start ---------------------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", async function () {
    $("sign-in-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    document.querySelectorAll(".tab").forEach(function (t) {
      t.addEventListener("click", function () { show(t.getAttribute("data-view")); });
    });
    $("approve").addEventListener("click", function () { decide("approve"); });
    $("reject-open").addEventListener("click", openReject);
    $("reject-cancel").addEventListener("click", closeReject);
    $("reject-form").addEventListener("submit", function (e) { e.preventDefault(); decide("reject"); });
    $("queue-more").addEventListener("click", function () { loadQueue(false); });
    $("figures-division").addEventListener("change", loadFigures);
    $("figures-months").addEventListener("change", loadFigures);
    $("search-form").addEventListener("submit", search);
    $("status-form").addEventListener("submit", askStatus);
    $("status-confirm-yes").addEventListener("click", changeStatus);
    $("status-confirm-no").addEventListener("click", function () { $("status-confirm").hidden = true; });
    document.addEventListener("keydown", keys);
    window.addEventListener("resize", function () { if (shown && !$("view-figures").hidden) { drawChart(shown); } });
    try {
      var l = await fetch("labels.json");
      if (l.status === 200) { labels = await l.json(); }
    } catch (e) { /* codes are shown instead */ }
    var answer = await api("GET", "/console/api/session");
    if (answer.status === 200) { signedIn(answer.body); } else { signedOut(""); }
  });
})();
