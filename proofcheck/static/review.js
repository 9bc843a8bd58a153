// Keyboard shortcuts for the review queue and the evidence screen:
// j/k next/previous, Enter open (queue), c claim, f/a/u decide, n note, Esc leave the note.
(function () {
  "use strict";
  let busy = false; // one key press submits one form; a second press waits for the page

  function typing(target) {
    return target && (target.isContentEditable ||
      ["INPUT", "TEXTAREA", "SELECT"].indexOf(target.tagName) >= 0);
  }

  function press(selector) {
    const button = document.querySelector(selector);
    if (!button || button.disabled || busy) return false;
    busy = true;
    button.click();
    return true;
  }

  function follow(selector) {
    const link = document.querySelector(selector);
    if (!link) return false;
    window.location.assign(link.href);
    return true;
  }

  function listKeys(table, key) {
    const rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]"));
    if (!rows.length) return false;
    let at = rows.findIndex(function (row) { return row.classList.contains("selected"); });
    if (key === "Enter") {
      if (at < 0) return false;
      window.location.assign(rows[at].dataset.href);
      return true;
    }
    if (at >= 0) rows[at].classList.remove("selected");
    at = key === "j" ? Math.min(at + 1, rows.length - 1) : Math.max(at - 1, 0);
    rows[at].classList.add("selected");
    rows[at].scrollIntoView({ block: "nearest" });
    return true;
  }

  // A click anywhere on a queue row opens its item, as Enter does.
  document.addEventListener("click", function (event) {
    const row = event.target.closest && event.target.closest("tr[data-href]");
    if (row && !event.target.closest("a, button, input, select, textarea")) {
      window.location.assign(row.dataset.href);
    }
  });

  // Lets a test (or a curious user) see that the shortcuts are live on this page.
  document.documentElement.dataset.shortcuts = "on";

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const list = document.querySelector("[data-keyboard-list]");
    let handled = false;
    if (list && (event.key === "j" || event.key === "k" || event.key === "Enter")) {
      handled = listKeys(list, event.key);
    } else if (event.key === "j") {
      handled = follow('a[data-nav="next"]');
    } else if (event.key === "k") {
      handled = follow('a[data-nav="prev"]');
    } else if (event.key === "c" || event.key === "f" || event.key === "a" || event.key === "u") {
      handled = press('button[data-key="' + event.key + '"]');
    } else if (event.key === "n") {
      const note = document.getElementById("note");
      if (note && !note.disabled) { note.focus(); handled = true; }
    }
    if (handled) event.preventDefault();
  });
})();
