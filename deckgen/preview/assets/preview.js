/* deckgen preview: draws each card side as Anki's reviewer does, filters the list, and follows
   a serving `deckgen preview --serve`. Plain script, no library: it works offline and from file://. */
(function () {
  "use strict";

  var data = document.getElementById("deckgen-cards");
  var cards = data ? JSON.parse(data.textContent) : [];
  var entries = Array.prototype.slice.call(document.querySelectorAll(".entry"));
  var sections = Array.prototype.slice.call(document.querySelectorAll(".group"));
  var groupSelect = document.getElementById("filter-group");
  var tagSelect = document.getElementById("filter-tag");
  var search = document.getElementById("filter-search");
  var nightToggle = document.getElementById("night-toggle");
  var shown = document.getElementById("shown");
  var nothing = document.getElementById("nothing");
  var night = false;

  /* Each card side is its own document, written by deckgen as cards/<index>-<side>.html, with a
     Content-Security-Policy that lets it load only the site's CSS and media and run no script but
     deckgen's own. The frame is sandboxed without allow-same-origin: the card cannot reach this page. */
  /* From file:// a sandboxed document may not load local files, so there the frame keeps its file
     origin, which browsers make unique per file: it still cannot reach the page (a file:// page is
     another origin). Served over http, the frame gets an opaque origin of its own. */
  var SANDBOX = location.protocol === "file:" ? "allow-scripts allow-popups allow-same-origin" : "allow-scripts allow-popups";
  var MAX_HEIGHT = 20000;

  function frames() {
    return Array.prototype.slice.call(document.querySelectorAll(".side iframe"));
  }

  function applyNight(frame) {
    if (frame.contentWindow) frame.contentWindow.postMessage({ deckgenNight: night }, "*");
  }

  /* The frame is at least as tall as its card (plus a little room below, as a window would
     have); the card's document reports its height whenever it changes. */
  window.addEventListener("message", function (event) {
    var height = event.data && event.data.deckgenHeight;
    if (typeof height !== "number" || !isFinite(height)) return;
    frames().forEach(function (frame) {
      if (frame.contentWindow === event.source) {
        frame.style.minHeight = Math.min(Math.max(height, 0), MAX_HEIGHT) + 16 + "px";
      }
    });
  });

  function mount(entry) {
    if (entry.getAttribute("data-mounted")) return;
    entry.setAttribute("data-mounted", "1");
    var card = cards[Number(entry.getAttribute("data-index"))];
    entry.querySelectorAll(".side").forEach(function (figure) {
      var side = figure.getAttribute("data-side");
      var frame = document.createElement("iframe");
      frame.title = (side === "question" ? "Front of " : "Back of ") + card.note;
      frame.setAttribute("sandbox", SANDBOX);
      frame.addEventListener("load", function () { applyNight(frame); });
      frame.src = "cards/" + entry.getAttribute("data-index") + "-" + side + ".html";
      figure.querySelector(".slot").replaceWith(frame);
    });
  }

  /* A deck of up to EAGER cards is drawn at once, so that a printed page or a full-page screenshot
     shows every card; a bigger one draws cards as they come near the screen, so thousands stay
     quick, and all of them before it is printed. */
  var main = document.querySelector("main[data-eager]");
  var EAGER = main ? Number(main.getAttribute("data-eager")) : 0;
  function mountAll() { entries.forEach(mount); }
  var observer = "IntersectionObserver" in window && entries.length > EAGER ? new IntersectionObserver(function (seen) {
    seen.forEach(function (item) {
      if (item.isIntersecting) { mount(item.target); observer.unobserve(item.target); }
    });
  }, { rootMargin: "800px 0px" }) : null;
  entries.forEach(function (entry) { observer ? observer.observe(entry) : mount(entry); });
  window.addEventListener("beforeprint", function () {
    var undrawn = entries.some(function (entry) { return !entry.getAttribute("data-mounted"); });
    mountAll();  /* cards that start loading now may miss this printout: the printout then says so */
    document.documentElement.classList.toggle("print-incomplete", undrawn);
  });

  /* A group's filter shows its subgroups' cards too ('/' is the deck itself, without its subdecks). */
  function inGroup(entry, group) {
    var own = entry.getAttribute("data-group");
    return own === group || (group !== "/" && own.indexOf(group + "/") === 0);
  }

  function matches(entry, group, tag, words) {
    if (group && !inGroup(entry, group)) return false;
    if (tag) {
      var tags = entry.getAttribute("data-tags").split(" ");
      if (!tags.some(function (t) { return t === tag || t.indexOf(tag + "::") === 0; })) return false;
    }
    var text = cards[Number(entry.getAttribute("data-index"))].text;
    return words.every(function (word) { return text.indexOf(word) !== -1; });
  }

  function applyFilters(event) {
    var group = groupSelect.value, tag = tagSelect.value;
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var count = 0;
    entries.forEach(function (entry) {
      var ok = matches(entry, group, tag, words);
      entry.hidden = !ok;
      if (ok) count += 1;
    });
    sections.forEach(function (section) {
      section.hidden = !section.querySelector(".entry:not([hidden])");
    });
    shown.textContent = count === entries.length ? count + " cards" : count + " of " + entries.length + " cards shown";
    nothing.hidden = count > 0;
    saveState(Boolean(event));
  }

  function setNight(on, event) {
    night = on;
    document.documentElement.classList.toggle("preview-night", on);
    nightToggle.setAttribute("aria-pressed", on ? "true" : "false");
    frames().forEach(applyNight);
    saveState(Boolean(event));
  }

  /* The filters live in the address (#group=...&tag=...&q=...&night=1): a link shares a view,
     and a reload keeps it. A link to one card (#card-12) stays until the reader changes a filter. */
  function saveState(byReader) {
    var state = new URLSearchParams();
    if (groupSelect.value) state.set("group", groupSelect.value);
    if (tagSelect.value) state.set("tag", tagSelect.value);
    if (search.value) state.set("q", search.value);
    if (night) state.set("night", "1");
    var hash = state.toString();
    if (hash !== location.hash.replace(/^#/, "") && (byReader || !/^#card-/.test(location.hash))) {
      history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
    }
  }

  function restoreState() {
    if (/^#card-/.test(location.hash)) return;
    var state = new URLSearchParams(location.hash.replace(/^#/, ""));
    var choose = function (select, value) {
      if (value && Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
        select.value = value;
      }
    };
    choose(groupSelect, state.get("group"));
    choose(tagSelect, state.get("tag"));
    search.value = state.get("q") || "";
    night = state.get("night") === "1";
  }

  if (groupSelect) {
    restoreState();
    groupSelect.addEventListener("change", applyFilters);
    tagSelect.addEventListener("change", applyFilters);
    search.addEventListener("input", applyFilters);
    nightToggle.addEventListener("click", function (event) { setNight(!night, event); });
    document.addEventListener("keydown", function (event) {
      if (event.key === "/" && document.activeElement !== search) { event.preventDefault(); search.focus(); }
    });
    setNight(night);
    applyFilters();
  }

  /* Served by `deckgen preview --serve`: reload when the site is rebuilt, keeping the place. */
  var live = document.querySelector('meta[name="deckgen-live"]');
  var SCROLL = "deckgen-preview-scroll";
  if (live && window.EventSource && /^https?:$/.test(location.protocol)) {
    var saved = sessionStorage.getItem(SCROLL);
    if (saved) { sessionStorage.removeItem(SCROLL); window.scrollTo(0, Number(saved)); }
    var events = new EventSource("/__deckgen__/events?build=" + encodeURIComponent(live.content));
    events.addEventListener("reload", function () {
      events.close();
      sessionStorage.setItem(SCROLL, String(window.scrollY));
      location.reload();
    });
  }
})();
