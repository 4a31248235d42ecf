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
  if (window.ResizeObserver) new ResizeObserver(send).observe(root);
  window.addEventListener("load", send);
  send();
})();
