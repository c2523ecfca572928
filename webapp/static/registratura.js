/* The Registratura's desk form, made for the keyboard (the form works without it):
   - choosing another procedure reloads the page with that procedure's form;
   - the cursor starts in the first field, or on the error summary after a refusal;
   - Enter registers from a one-line field, a list or an option, Ctrl+Enter from a
     text area;
   - the sender's name offers earlier senders (arrows, Enter); picking one fills in
     the address and the e-mail.
   A file of its own: the Content-Security-Policy allows no inline scripts. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    document.querySelectorAll("select[data-reload-on-change]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    var form = document.querySelector("form[data-desk-form]");
    if (!form) return;
    var name = form.querySelector("#field-sender_name");
    if (name && form.dataset.sendersUrl) senderSuggestions(form, name);
    submitKeys(form);
    startFocus(form);
  });

  function startFocus(form) {
    var summary = document.getElementById("form-errors");
    if (summary) { summary.focus(); return; }
    var first = form.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  function submit(form) {
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  function submitKeys(form) {
    // One-line inputs already submit on Enter (the browser's own behaviour).
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.defaultPrevented || event.isComposing) return;
      var target = event.target, tag = target.tagName;
      var choice = tag === "SELECT" || target.type === "radio" || target.type === "checkbox";
      if (choice || (tag === "TEXTAREA" && (event.ctrlKey || event.metaKey))) {
        event.preventDefault();
        submit(form);
      }
    });
  }

  function senderSuggestions(form, input) {
    var address = form.querySelector("#field-sender_address");
    var email = form.querySelector("#field-sender_email");
    var wrapper = document.createElement("div");
    wrapper.className = "suggest";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    var list = document.createElement("ul");
    list.id = "sender-suggestions";
    list.setAttribute("role", "listbox");
    if (input.labels && input.labels[0]) list.setAttribute("aria-label", input.labels[0].textContent);
    list.hidden = true;
    wrapper.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");

    var senders = [], active = -1, timer = null, asked = 0;

    function close() {
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function show(found) {
      senders = found;
      active = -1;
      list.textContent = "";
      found.forEach(function (sender, i) {
        var item = document.createElement("li");
        item.id = "sender-suggestion-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = sender.name;
        var details = [sender.address, sender.email].filter(Boolean).join(" · ");
        if (details) {
          var small = document.createElement("small");
          small.textContent = details;
          item.appendChild(small);
        }
        // mousedown, not click: the input must not lose focus first.
        item.addEventListener("mousedown", function (event) { event.preventDefault(); pick(i); });
        list.appendChild(item);
      });
      list.hidden = found.length === 0;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
    }

    function highlight(i) {
      var items = list.querySelectorAll("[role=option]");
      if (!items.length) return;
      active = (i + items.length) % items.length;
      items.forEach(function (item, n) { item.setAttribute("aria-selected", n === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({block: "nearest"});
    }

    function pick(i) {
      var sender = senders[i];
      input.value = sender.name;
      if (address) address.value = sender.address || "";
      if (email) email.value = sender.email || "";
      close();
    }

    function ask() {
      var text = input.value.trim();
      if (text.length < 2) { close(); return; }
      var ticket = ++asked;   // only the answer to the latest question is shown
      fetch(form.dataset.sendersUrl + "?q=" + encodeURIComponent(text),
            {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (found) {
          if (ticket === asked && document.activeElement === input) show(found);
        })
        .catch(function () { close(); });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!open && senders.length) { show(senders); open = true; }
        if (open) {
          event.preventDefault();
          highlight(event.key === "ArrowDown" ? active + 1 : (active < 0 ? -1 : active - 1));
        }
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();     // picks the sender; a second Enter registers
        pick(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }
})();
