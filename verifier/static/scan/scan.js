/* The inspector's scanner: officer sign-in, camera or pasted QR, the verdict in words.
 * Every call goes to the verifier's JSON API (/verifier/v1/...). The officer's
 * token stays in this tab's sessionStorage; nothing personal goes into a URL. */
"use strict";

(function () {
  // One entry per verdict of the closed set (wallet/verification/verdict.py).
  var VERDICTS = {
    valid: { title: "有效", tone: "ok", action: "证件有效。核对持证人本人与照片一致后放行。" },
    expired: { title: "已过期", tone: "stop", action: "证件有效期已届满，不能作为有效证件使用，依法处理。" },
    not_yet_valid: { title: "尚未生效", tone: "stop", action: "证件尚未到生效日期，不能作为有效证件使用。" },
    revoked: { title: "已吊销", tone: "stop", action: "证件已被吊销。扣留车辆或人员待查，依法处理并上报。" },
    suspended: { title: "已暂扣", tone: "stop", action: "证件已被暂扣（暂停使用），不得从事相关经营，依法处理。" },
    cancelled: { title: "已注销", tone: "stop", action: "证件已注销，不能作为有效证件使用，依法处理。" },
    superseded: { title: "旧版证件", tone: "retry", action: "出示的是旧版本证件。请持证人刷新电子证照后重新出示。" },
    qr_expired: { title: "二维码过期", tone: "retry", action: "二维码已超过时限。请持证人刷新二维码后重新扫描。" },
    code_mismatch: { title: "校验码不符", tone: "stop", action: "离线校验码不正确。请持证人联网刷新后重新出示；仍不符的，按疑似伪造处理。" },
    bad_signature: { title: "签名无效", tone: "stop", action: "签名校验失败，疑似伪造或篡改。留存证据，核实持证人身份。" },
    unknown_key: { title: "签发方不可信", tone: "stop", action: "签发密钥不在信任列表中，疑似伪造。留存证据，人工核查。" },
    replayed: { title: "二维码被重复使用", tone: "stop", action: "该二维码已在别处被核验，可能是截图转发。请持证人现场刷新后重新扫描。" },
    malformed: { title: "无法识别", tone: "unknown", action: "这不是电子证照二维码或内容不完整。请重新扫描。" },
    status_unavailable: { title: "状态暂不可查", tone: "retry", action: "暂时无法查询证件状态，不能确认有效。稍后重试，或按纸质证件人工核查。" }
  };
  var STALE_SECONDS = 300;
  var TOKEN = "rtel.scan.session";
  var DEVICE = "rtel.scan.device";

  var $ = function (id) { return document.getElementById(id); };
  var labels = {};
  var stream = null;
  var checkedAt = null;
  var photoUrl = null;
  var busy = false;

  function session() {
    try { return JSON.parse(sessionStorage.getItem(TOKEN) || "null"); } catch (e) { return null; }
  }

  function show(signedIn) {
    var s = session();
    $("sign-in").hidden = signedIn;
    $("scanner").hidden = !signedIn;
    $("who").hidden = !signedIn;
    if (signedIn && s) {
      $("who-text").textContent = (s.role === "supervisor" ? "督察 " : "执法员 ") + s.badge;
    } else {
      $("device").value = localStorage.getItem(DEVICE) || "";
      stopCamera();
    }
  }

  function problemText(status, body, fallback) {
    if (status === 429) {
      return "尝试过于频繁，请稍后再试。";
    }
    if (status === 401) { return fallback; }
    if (status === 503) { return "服务暂不可用，请稍后重试。"; }
    return (body && (body.detail || body.title)) || fallback;
  }

  async function call(path, options) {
    var response = await fetch(path, options);
    var body = null;
    var type = response.headers.get("content-type") || "";
    if (type.indexOf("json") >= 0) { body = await response.json(); }
    return { status: response.status, body: body, response: response };
  }

  async function signIn(event) {
    event.preventDefault();
    var error = $("sign-in-error");
    error.hidden = true;
    var device = $("device").value.trim();
    var answer;
    try {
      answer = await call("/verifier/v1/session", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ badge: $("badge").value.trim(), password: $("password").value, device_id: device })
      });
    } catch (e) {
      answer = { status: 0, body: null };
    }
    $("password").value = "";
    if (answer.status !== 201) {
      error.textContent = answer.status === 0 ? "无法连接服务器，请检查网络。" :
        problemText(answer.status, answer.body, "警号、密码或设备编号不正确。");
      error.hidden = false;
      return;
    }
    localStorage.setItem(DEVICE, device);
    var officer = answer.body.officer;
    sessionStorage.setItem(TOKEN, JSON.stringify({
      token: answer.body.token, device: device, badge: officer.badge, role: officer.role,
      until: Date.now() + answer.body.expires_in * 1000
    }));
    show(true);
    $("qr").focus();
  }

  async function signOut() {
    var s = session();
    sessionStorage.removeItem(TOKEN);
    if (s) {
      try {
        await fetch("/verifier/v1/session", { method: "DELETE", headers: { Authorization: "Bearer " + s.token, "X-Device-Id": s.device } });
      } catch (e) { /* the session lapses by itself */ }
    }
    clearResult();
    show(false);
  }

  function clearResult() {
    $("result").hidden = true;
    if (photoUrl) { URL.revokeObjectURL(photoUrl); photoUrl = null; }
    $("photo").hidden = true;
    $("photo").removeAttribute("src");
    checkedAt = null;
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function localTime(date) {
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + " " +
      pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
  }

  function age(seconds) {
    if (seconds < 60) { return seconds + " 秒前"; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " 分钟前"; }
    if (seconds < 86400) { return Math.floor(seconds / 3600) + " 小时前"; }
    return Math.floor(seconds / 86400) + " 天前";
  }

  function tick() {
    var line = $("checked");
    if (!checkedAt) {
      line.textContent = "未能查询证件状态";
      line.classList.add("stale");
      return;
    }
    var seconds = Math.max(0, Math.round((Date.now() - checkedAt.getTime()) / 1000));
    line.textContent = "状态核查时间：" + localTime(checkedAt) + "（" + age(seconds) + "）";
    line.classList.toggle("stale", seconds > STALE_SECONDS);
  }

  function fieldLabel(kind, name) {
    var k = labels[kind];
    return (k && k.fields[name] && k.fields[name].label) || name;
  }

  function fieldValue(kind, name, value) {
    var k = labels[kind];
    var choices = (k && k.fields[name] && k.fields[name].choices) || {};
    if (Array.isArray(value)) {
      return value.map(function (v) { return choices[v] || v; }).join("、");
    }
    return choices[value] || String(value);
  }

  async function showPhoto(licence, s) {
    var note = $("photo-note");
    note.textContent = "";
    if (!licence.photo_url) {
      note.textContent = "无持证人照片";
      return;
    }
    try {
      var response = await fetch(licence.photo_url, { headers: { Authorization: "Bearer " + s.token, "X-Device-Id": s.device } });
      if (response.status !== 200) {
        note.textContent = response.status === 404 ? "登记信息中无持证人照片" : "照片暂不可取";
        return;
      }
      photoUrl = URL.createObjectURL(await response.blob());
      $("photo").src = photoUrl;
      $("photo").hidden = false;
      note.textContent = "核对是否本人";
    } catch (e) {
      note.textContent = "照片暂不可取";
    }
  }

  function render(answer, s) {
    clearResult();
    var v = VERDICTS[answer.verdict] || { title: answer.verdict, tone: "unknown", action: "" };
    var box = $("verdict");
    box.className = "verdict tone-" + v.tone;
    box.setAttribute("data-verdict", answer.verdict);
    $("verdict-title").textContent = v.title;
    $("verdict-action").textContent = v.action;
    $("verdict-code").textContent = answer.verdict;
    $("detail").textContent = answer.detail || "";
    checkedAt = answer.status_checked_at ? new Date(answer.status_checked_at) : null;
    tick();
    var licence = answer.licence;
    var face = $("face");
    face.textContent = "";
    if (licence && licence.face && Object.keys(licence.face).length) {
      $("kind-name").textContent = (labels[licence.kind] && labels[licence.kind].name) || licence.kind || "";
      var known = labels[licence.kind] ? Object.keys(labels[licence.kind].fields) : [];
      var names = known.filter(function (n) { return n in licence.face; });
      Object.keys(licence.face).forEach(function (n) { if (names.indexOf(n) < 0) { names.push(n); } });
      names.forEach(function (name) {
        var value = licence.face[name];
        if (name === "photo" || value === null || value === "" || typeof value === "object" && !Array.isArray(value)) { return; }
        var dt = document.createElement("dt");
        dt.textContent = fieldLabel(licence.kind, name);
        var dd = document.createElement("dd");
        dd.textContent = fieldValue(licence.kind, name, value);
        face.appendChild(dt);
        face.appendChild(dd);
      });
      if (licence.version) {
        var dt = document.createElement("dt");
        dt.textContent = "版本";
        var dd = document.createElement("dd");
        dd.textContent = "第 " + licence.version + " 版";
        face.appendChild(dt);
        face.appendChild(dd);
      }
      $("licence").hidden = false;
      showPhoto(licence, s);
    } else {
      $("licence").hidden = true;
    }
    $("result").hidden = false;
    $("result").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  async function verify(text) {
    var s = session();
    if (!s) { show(false); return; }
    var qr = text.trim();
    if (!qr || busy) { return; }
    busy = true;
    $("verify").disabled = true;
    try {
      var answer = await call("/verifier/v1/verifications", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + s.token, "X-Device-Id": s.device },
        body: JSON.stringify({ qr: qr })
      });
      if (answer.status === 401) {
        sessionStorage.removeItem(TOKEN);
        show(false);
        $("sign-in-error").textContent = "登录已失效，请重新登录。";
        $("sign-in-error").hidden = false;
        return;
      }
      if (answer.status !== 200) {
        clearResult();
        $("camera-error").textContent = problemText(answer.status, answer.body, "核验失败，请重试。");
        $("camera-error").hidden = false;
        return;
      }
      $("camera-error").hidden = true;
      $("qr").value = "";
      render(answer.body, s);
    } catch (e) {
      $("camera-error").textContent = "无法连接服务器，请检查网络后重试。";
      $("camera-error").hidden = false;
    } finally {
      busy = false;
      $("verify").disabled = false;
    }
  }

  function stopCamera() {
    if (stream) {
      stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
    }
    $("camera-box").hidden = true;
    $("camera-stop").hidden = true;
    $("camera-start").hidden = false;
  }

  function scanFrame() {
    if (!stream) { return; }
    var video = $("video");
    if (video.readyState >= 2 && video.videoWidth) {
      var canvas = $("frame");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (code && code.data) {
        stopCamera();
        verify(code.data);
        return;
      }
    }
    setTimeout(function () { requestAnimationFrame(scanFrame); }, 120);
  }

  async function startCamera() {
    $("camera-error").hidden = true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $("camera-error").textContent = "此浏览器不能使用摄像头（需要 HTTPS），请粘贴二维码内容。";
      $("camera-error").hidden = false;
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) {
      $("camera-error").textContent = "无法打开摄像头：请允许使用摄像头，或粘贴二维码内容。";
      $("camera-error").hidden = false;
      return;
    }
    clearResult();
    var video = $("video");
    video.srcObject = stream;
    $("camera-box").hidden = false;
    $("camera-stop").hidden = false;
    $("camera-start").hidden = true;
    await video.play();
    scanFrame();
  }

  async function loadLabels() {
    try {
      var answer = await call("labels.json", {});
      if (answer.status === 200) { labels = answer.body; }
    } catch (e) { /* the codes are shown instead */ }
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("sign-in-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", signOut);
    $("paste-form").addEventListener("submit", function (event) { event.preventDefault(); verify($("qr").value); });
    $("camera-start").addEventListener("click", startCamera);
    $("camera-stop").addEventListener("click", stopCamera);
    setInterval(function () { if (!$("result").hidden) { tick(); } }, 1000);
    loadLabels();
    var s = session();
    show(Boolean(s && s.until > Date.now()));
  });
})();
