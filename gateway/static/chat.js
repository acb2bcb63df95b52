/* Web chat for government services: plain ES5, no dependencies, works on old phone browsers.
   Talks to POST channels/web/messages {user, text, id} -> {replies: [{text, options, link}], ended}. */
(function () {
  "use strict";
  var API = "channels/web/messages";
  var KEY = "gw-chat-user";
  var ABC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("answer");
  var sendButton = document.getElementById("send");
  var status = document.getElementById("status");
  var error = document.getElementById("error");
  var errorText = document.getElementById("error-text");
  var retry = document.getElementById("retry");
  var pending = null; // {text, id}: the message in flight, or the one that failed
  var busy = false;

  function random(length) {
    var out = "", bytes = null, i;
    var c = window.crypto || window.msCrypto;
    if (c && c.getRandomValues) {
      bytes = new Uint8Array(length);
      c.getRandomValues(bytes);
    }
    for (i = 0; i < length; i++) {
      out += ABC.charAt((bytes ? bytes[i] : Math.floor(Math.random() * 256)) & 63);
    }
    return out;
  }

  function userId() {
    var id = null;
    try { id = window.localStorage.getItem(KEY); } catch (e) { id = null; }
    if (id && /^[A-Za-z0-9_-]{8,64}$/.test(id)) return id;
    id = random(22);
    try { window.localStorage.setItem(KEY, id); } catch (e) { /* private mode: this visit only */ }
    return id;
  }
  var user = userId();

  function bubble(cls, text) {
    var li = document.createElement("li");
    li.className = cls;
    li.appendChild(document.createTextNode(text));
    log.appendChild(li);
    return li;
  }

  function optionButton(box, label, text, shown) {
    var b = document.createElement("button");
    b.type = "button";
    b.appendChild(document.createTextNode(label));
    b.onclick = function () { send(text, shown); };
    box.appendChild(b);
    return b;
  }

  function setBusy(on) {
    var i, buttons = log.getElementsByTagName("button");
    busy = on;
    input.disabled = on;
    sendButton.disabled = on;
    retry.disabled = on;
    for (i = 0; i < buttons.length; i++) buttons[i].disabled = on;
    log.setAttribute("aria-busy", on ? "true" : "false");
    status.textContent = on ? "Sending\u2026" : "";
  }

  function clearOptions() {
    var boxes = log.querySelectorAll(".opts"), i;
    for (i = 0; i < boxes.length; i++) boxes[i].parentNode.removeChild(boxes[i]);
  }

  function show(data) {
    var replies = (data && data.replies) || [], first = null, top = null, i, j, r, li, box, a;
    clearOptions();
    for (i = 0; i < replies.length; i++) {
      r = replies[i];
      li = bubble("bot", r.text || "");
      top = top || li;
      if (r.link && /^https?:\/\//i.test(r.link)) {
        li.appendChild(document.createElement("br"));
        a = document.createElement("a");
        a.href = r.link;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.appendChild(document.createTextNode(r.link));
        li.appendChild(a);
      }
      if ((r.options && r.options.length) || (data.ended && i === replies.length - 1)) {
        box = document.createElement("div");
        box.className = "opts";
        for (j = 0; r.options && j < r.options.length; j++) {
          a = optionButton(box, r.options[j].label, r.options[j].key, r.options[j].label);
          first = first || a;
        }
        if (data.ended && i === replies.length - 1) {
          a = optionButton(box, "Start again", "", null);
          first = first || a;
        }
        li.appendChild(box);
      }
    }
    focus(first || input);
    // show the end of the chat, but never scroll the question off the top for its options
    window.scrollTo(0, document.body.scrollHeight);
    if (top && top.getBoundingClientRect().top < 0) top.scrollIntoView(true);
  }

  function focus(element) {
    try { element.focus({ preventScroll: true }); } catch (e) { element.focus(); }
  }

  function fail(message) {
    setBusy(false);
    errorText.textContent = message;
    error.hidden = false;
    retry.focus();
  }

  function post() {
    var xhr = new XMLHttpRequest();
    var message = pending;
    error.hidden = true;
    setBusy(true);
    xhr.open("POST", API, true);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.timeout = 20000;
    xhr.onload = function () {
      var data = null;
      if (message !== pending) return;
      // 429: too many messages from here; the body is a polite reply to show as it is.
      if (xhr.status === 200 || xhr.status === 429) {
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      }
      if (!data) {
        fail("Sorry, something went wrong on our side. Please try again in a moment.");
        return;
      }
      pending = null;
      setBusy(false);
      show(data);
    };
    xhr.onerror = xhr.ontimeout = function () {
      if (message === pending) {
        fail("Sorry, we could not reach the service. Please check your connection and try again.");
      }
    };
    xhr.send(JSON.stringify({ user: user, text: message.text, id: message.id }));
  }

  function send(text, shown) {
    if (busy) return;
    pending = { text: text, id: random(16) };
    if (shown) bubble("me", shown);
    post();
  }

  form.onsubmit = function (event) {
    var text = input.value.replace(/^\s+|\s+$/g, "");
    if (event && event.preventDefault) event.preventDefault();
    if (!busy && text) {
      input.value = "";
      send(text, text);
    } else if (!busy) {
      input.focus();
    }
    return false;
  };

  retry.onclick = function () {
    if (pending && !busy) post(); // the same id: the gateway answers a retry only once
  };

  send("", null);
})();
