(function () {
  "use strict";
  var root = document.documentElement;
  function send() {
    parent.postMessage({ deckgenHeight: Math.ceil(root.getBoundingClientRect().height) }, "*");
  }
  window.addEventListener("message", function (event) {
    if (event.source !== parent || !event.data || typeof event.data.deckgenNight !== "boolean") return;
    document.body.classList.toggle("nightMode", event.data.deckgenNight);
    document.body.classList.toggle("night_mode", event.data.deckgenNight);
    send();
  });
  /* Anki's {{hint:Field}} link opens its text with an inline onclick, which the card's policy
     blocks: the same is done here. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.hint") : null;
    var text = link && link.nextElementSibling;
    if (!text || !text.classList.contains("hint")) return;
    event.preventDefault();
    link.style.display = "none";
    text.style.display = "block";
  });
  if (window.ResizeObserver) new ResizeObserver(send).observe(root);
  window.addEventListener("load", send);
  send();
})();
