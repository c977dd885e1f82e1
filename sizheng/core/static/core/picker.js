/* Search-as-you-type pickers (org.pickers): a combobox text input, a hidden pk and a listbox that
   htmx fills with suggestions (the response also fills a visible note and a role=status line for
   screen readers: how many were found, or that none was). The listbox is rendered hidden, so that
   without this file no empty listbox stays in the accessibility tree; it is shown only while it has
   options. Choosing one (click, or arrow keys then Enter) puts its pk in the hidden input and its
   label in the text; typing again clears the pk. Without this file the text is simply submitted
   and resolved by the server. Event delegation only: nothing inline (CSP). */
(function () {
  "use strict";

  function parts(el) {
    var root = el && el.closest ? el.closest("[data-sz-picker]") : null;
    if (!root) { return null; }
    return {
      root: root,
      input: root.querySelector("[data-sz-picker-input]"),
      pk: root.querySelector("[data-sz-picker-pk]"),
      list: root.querySelector("[role=listbox]"),
      note: root.querySelector("[data-sz-picker-note]"),
      status: root.querySelector("[data-sz-picker-status]")
    };
  }

  function options(p) {
    return Array.prototype.slice.call(p.list.querySelectorAll("[role=option]"));
  }

  function activeIndex(p) {
    return options(p).findIndex(function (o) { return o.getAttribute("aria-selected") === "true"; });
  }

  function setOpen(p, open) {
    p.list.hidden = !open;
    p.list.classList.toggle("show", open);
    p.input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) {
      p.input.removeAttribute("aria-activedescendant");
      options(p).forEach(function (o) { o.classList.remove("active"); o.setAttribute("aria-selected", "false"); });
    }
  }

  function activate(p, index) {
    var opts = options(p);
    if (!opts.length) { return; }
    index = (index + opts.length) % opts.length;
    opts.forEach(function (o, i) {
      var on = i === index;
      o.classList.toggle("active", on);
      o.setAttribute("aria-selected", on ? "true" : "false");
    });
    p.input.setAttribute("aria-activedescendant", opts[index].id);
    opts[index].scrollIntoView({ block: "nearest" });
  }

  // Empty the listbox, the note and the status line (the text was cleared or an option chosen).
  function reset(p) {
    setOpen(p, false);
    p.list.textContent = "";
    if (p.note) { p.note.textContent = ""; p.note.hidden = true; }
    if (p.status) { p.status.textContent = ""; }
  }

  function choose(p, option) {
    p.pk.value = option.getAttribute("data-pk");
    p.input.value = option.getAttribute("data-label");
    reset(p);
    p.input.focus();
    p.pk.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // The endpoint reads ?q=; the input's own name (<field>_q) is the form's parameter.
  document.addEventListener("htmx:configRequest", function (e) {
    var elt = e.detail.elt;
    if (!elt || !elt.matches || !elt.matches("[data-sz-picker-input]")) { return; }
    e.detail.parameters.q = elt.value;
    delete e.detail.parameters[elt.name];
  });

  document.addEventListener("htmx:afterSwap", function (e) {
    var p = parts(e.detail.target);
    if (!p || e.detail.target !== p.list) { return; }
    var shown = p.list.children.length > 0 && document.activeElement === p.input;
    setOpen(p, shown);
  });

  document.addEventListener("input", function (e) {
    if (!e.target.matches || !e.target.matches("[data-sz-picker-input]")) { return; }
    var p = parts(e.target);
    p.pk.value = "";
    if (p.list && !p.input.value.trim()) { reset(p); }
  });

  document.addEventListener("keydown", function (e) {
    if (!e.target.matches || !e.target.matches("[data-sz-picker-input]")) { return; }
    var p = parts(e.target);
    if (!p.list) { return; }  // no suggestions for this user: a plain text input
    var open = p.list.classList.contains("show");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (!options(p).length) { return; }
      e.preventDefault();
      if (!open) { setOpen(p, true); }
      var i = activeIndex(p);
      activate(p, i < 0 ? (e.key === "ArrowDown" ? 0 : -1) : i + (e.key === "ArrowDown" ? 1 : -1));
    } else if (e.key === "Enter" && open && activeIndex(p) >= 0) {
      e.preventDefault();  // choose, do not submit the filters yet
      choose(p, options(p)[activeIndex(p)]);
    } else if (e.key === "Escape" && open) {
      e.preventDefault();
      setOpen(p, false);
    }
  });

  // Keep the focus in the text input while an option is pressed, so the list does not close first.
  document.addEventListener("mousedown", function (e) {
    if (e.target.closest && e.target.closest("[data-sz-picker] [role=listbox]")) { e.preventDefault(); }
  });

  document.addEventListener("click", function (e) {
    var option = e.target.closest ? e.target.closest("[data-sz-picker] [role=option]") : null;
    if (option) { choose(parts(option), option); }
  });

  document.addEventListener("focusout", function (e) {
    var p = parts(e.target);
    if (p && p.list && !(e.relatedTarget && p.root.contains(e.relatedTarget))) { setOpen(p, false); }
  });

  document.addEventListener("focusin", function (e) {
    if (!e.target.matches || !e.target.matches("[data-sz-picker-input]")) { return; }
    var p = parts(e.target);
    if (p.list && p.list.children.length && p.input.value.trim() && !p.pk.value) { setOpen(p, true); }
  });
})();
