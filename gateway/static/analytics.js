/* Drop-off page for civil servants: GET ../api/v1/analytics/{service} with the admin token,
   drawn as SVG bars (attempts reaching each step) and a table. No framework, no other origin. */
(function () {
  "use strict";
  var KEY = "gw-admin-token"; // per browser tab: closing it forgets the token
  var SVG = "http://www.w3.org/2000/svg";
  var service = decodeURIComponent(window.location.pathname.split("/").pop());
  var api = "../api/v1/analytics/" + encodeURIComponent(service);
  var $ = function (id) { return document.getElementById(id); };
  var login = $("login"), tokenBox = $("token"), loginError = $("login-error");
  var report = $("report"), channelBox = $("channel"), status = $("status");

  function stored() {
    try { return window.sessionStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }
  function store(value) {
    try {
      if (value) { window.sessionStorage.setItem(KEY, value); } else { window.sessionStorage.removeItem(KEY); }
    } catch (e) { /* storage refused: the token is asked again next time */ }
  }

  function askToken(message) {
    report.hidden = true;
    login.hidden = false;
    loginError.textContent = message || "";
    tokenBox.value = "";
    tokenBox.focus();
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "-";
    if (seconds < 90) return Math.round(seconds) + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 90) return minutes + " min " + Math.round(seconds - minutes * 60) + " s";
    return (seconds / 3600).toFixed(1) + " h";
  }

  function percent(rate) {
    return rate === null || rate === undefined ? "-" : (rate * 100).toFixed(1) + " %";
  }

  function node(name, attributes, text) {
    var element = document.createElementNS(SVG, name);
    for (var key in attributes) {
      if (Object.prototype.hasOwnProperty.call(attributes, key)) element.setAttribute(key, attributes[key]);
    }
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function chart(data) {
    var rows = [{label: "Started", reached: data.started, dropped: 0, start: true}].concat(data.steps);
    var most = 1, i;
    for (i = 0; i < rows.length; i++) most = Math.max(most, rows[i].reached);
    var row = 28, left = 230, width = 330, height = rows.length * row + 8;
    var svg = node("svg", {viewBox: "0 0 640 " + height, role: "img", "aria-label": "Funnel: attempts reaching each step"});
    for (i = 0; i < rows.length; i++) {
      var step = rows[i], y = 4 + i * row;
      var full = Math.round(width * step.reached / most);
      var lost = Math.round(width * step.dropped / most);
      var group = node("g", {"class": "step", "data-step": step.step || "started"});
      group.appendChild(node("title", {}, step.label + ": " + step.reached + " reached, " + step.dropped + " dropped"));
      group.appendChild(node("text", {x: 0, y: y + 17}, step.label.length > 32 ? step.label.slice(0, 31) + "\u2026" : step.label));
      group.appendChild(node("rect", {"class": step.start ? "bar start" : "bar", x: left, y: y, height: row - 8, width: Math.max(full, step.reached ? 2 : 0)}));
      if (lost) group.appendChild(node("rect", {"class": "drop", x: left + full - lost, y: y, height: row - 8, width: lost}));
      group.appendChild(node("text", {"class": "count", x: left + full + 6, y: y + 17}, String(step.reached)));
      svg.appendChild(group);
    }
    var box = $("chart");
    box.textContent = "";
    box.appendChild(svg);
  }

  function cell(tr, text, small) {
    var td = document.createElement("td");
    td.textContent = text;
    if (small) {
      var note = document.createElement("small");
      note.textContent = small;
      td.appendChild(note);
    }
    tr.appendChild(td);
  }

  function table(data) {
    var body = document.querySelector("#steps tbody");
    body.textContent = "";
    for (var i = 0; i < data.steps.length; i++) {
      var step = data.steps[i], tr = document.createElement("tr");
      tr.setAttribute("data-step", step.step);
      cell(tr, step.label, step.label === step.step ? "" : step.step);
      cell(tr, String(step.reached));
      cell(tr, String(step.dropped));
      cell(tr, String(step.invalid));
      cell(tr, duration(step.median_seconds));
      body.appendChild(tr);
    }
  }

  function channels(data) {
    var known = {}, i;
    for (i = 0; i < channelBox.options.length; i++) known[channelBox.options[i].value] = true;
    var names = Object.keys(data.by_channel).sort();
    for (i = 0; i < names.length; i++) {
      if (!known[names[i]]) {
        var option = document.createElement("option");
        option.value = names[i];
        option.textContent = names[i];
        channelBox.appendChild(option);
      }
    }
  }

  function show(data) {
    $("title").textContent = data.title + ": where citizens get stuck";
    document.title = data.title + " - drop-off";
    $("started").textContent = String(data.started);
    $("completed").textContent = String(data.completed);
    $("rate").textContent = percent(data.completion_rate);
    if (!data.channel) channels(data);
    chart(data);
    table(data);
    login.hidden = true;
    report.hidden = false;
    status.textContent = "Updated " + new Date().toLocaleTimeString();
  }

  function load() {
    var token = stored();
    if (!token) { askToken(); return; }
    var url = api + (channelBox.value ? "?channel=" + encodeURIComponent(channelBox.value) : "");
    status.textContent = "Loading\u2026";
    window.fetch(url, {headers: {Authorization: "Bearer " + token}, cache: "no-store"})
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          store("");
          askToken("That token was not accepted.");
          status.textContent = "";
          return null;
        }
        if (response.status === 429) {
          store("");
          askToken("Too many wrong tokens. Please wait a minute and try again.");
          status.textContent = "";
          return null;
        }
        if (!response.ok) throw new Error("the server answered " + response.status);
        return response.json();
      })
      .then(function (data) { if (data) show(data); })
      .catch(function (error) { status.textContent = "Could not load the figures: " + error.message; });
  }

  login.addEventListener("submit", function (event) {
    event.preventDefault();
    store(tokenBox.value.trim());
    load();
  });
  channelBox.addEventListener("change", load);
  $("refresh").addEventListener("click", load);
  $("logout").addEventListener("click", function () { store(""); askToken(); });
  load();
}());
